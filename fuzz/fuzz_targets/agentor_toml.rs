#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| agentor_fuzz::agentor_toml(data));
