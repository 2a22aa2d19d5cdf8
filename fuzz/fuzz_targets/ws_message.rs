#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentor_fuzz::ws_message(data));
