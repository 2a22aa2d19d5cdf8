//! Hand-rolled JSON writing for the encoders' hot path.
//!
//! serde would work, but it costs a trip through its data model per field and
//! needs a writer adapter; here a string is one scan plus one copy per clean
//! run, and numbers go through `itoa`. Nothing allocates except `dst` growing.

use std::time::Duration;

use bytes::{BufMut, BytesMut};

/// For each byte: 0 if it goes out as is, else the letter after the backslash
/// (`u` meaning a `\u00XX` escape).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a quoted JSON string.
///
/// Every byte that could end an SSE or NDJSON line (`\n`, `\r`) is escaped, so
/// the output never spans lines. Bytes >= 0x80 are copied: the input is UTF-8
/// and JSON allows it raw.
pub(crate) fn write_str(dst: &mut BytesMut, s: &str) {
    let bytes = s.as_bytes();
    // Most text needs no escape: reserve once for the clean case.
    dst.reserve(bytes.len() + 2);
    dst.put_u8(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        if start < i {
            dst.extend_from_slice(&bytes[start..i]);
        }
        if esc == b'u' {
            dst.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]);
        } else {
            dst.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    if start < bytes.len() {
        dst.extend_from_slice(&bytes[start..]);
    }
    dst.put_u8(b'"');
}

/// Writes a JSON value (tool arguments) on one line: serde_json escapes
/// control characters in strings, so no line break can appear.
pub(crate) fn write_value(dst: &mut BytesMut, value: &serde_json::Value) {
    let mark = dst.len();
    if serde_json::to_writer(dst.writer(), value).is_err() {
        // A `Value` into memory cannot fail; should it ever, stay valid JSON.
        dst.truncate(mark);
        dst.extend_from_slice(b"null");
    }
}

/// Writes an unsigned integer.
pub(crate) fn write_u64(dst: &mut BytesMut, n: u64) {
    dst.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes a duration as decimal milliseconds: `1234`, `12.5`, `0.000001`.
///
/// Exact to the nanosecond with trailing zeros trimmed, so a duration measured
/// in microseconds has at most three decimals and every duration decodes back
/// to itself ([`parse_duration_ms`]). Written by hand because an `f64` cannot
/// hold `u64::MAX` seconds in nanoseconds.
pub(crate) fn write_duration_ms(dst: &mut BytesMut, d: Duration) {
    let nanos = d.as_nanos();
    dst.extend_from_slice(itoa::Buffer::new().format(nanos / 1_000_000).as_bytes());
    let frac = (nanos % 1_000_000) as u32;
    if frac != 0 {
        let mut digits = [b'.', b'0', b'0', b'0', b'0', b'0', b'0'];
        let mut rest = frac;
        for d in digits[1..].iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let mut len = digits.len();
        while digits[len - 1] == b'0' {
            len -= 1;
        }
        dst.extend_from_slice(&digits[..len]);
    }
}

/// Parses the text of a JSON number of milliseconds back into a duration.
///
/// Plain decimals (what [`write_duration_ms`] writes) are parsed exactly;
/// digits past the nanosecond are truncated. Exponent forms, which other
/// writers may produce, go through `f64`. Negative, non-numeric and
/// out-of-range values are `None`.
pub(crate) fn parse_duration_ms(text: &str) -> Option<Duration> {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !int.is_empty() && all_digits(int) && all_digits(frac) {
        let ms: u128 = int.parse().ok()?;
        let mut sub = 0u128;
        for i in 0..6 {
            let digit = frac.as_bytes().get(i).map_or(0, |b| b - b'0');
            sub = sub * 10 + u128::from(digit);
        }
        let nanos = ms.checked_mul(1_000_000)?.checked_add(sub)?;
        let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
        return Some(Duration::new(secs, (nanos % 1_000_000_000) as u32));
    }
    let ms: f64 = text.parse().ok()?;
    if !ms.is_finite() || ms < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(ms / 1000.0).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn string(s: &str) -> String {
        let mut dst = BytesMut::new();
        write_str(&mut dst, s);
        String::from_utf8(dst.to_vec()).unwrap()
    }

    #[test]
    fn escapes_only_what_json_requires() {
        assert_eq!(string(""), r#""""#);
        assert_eq!(string("plain"), r#""plain""#);
        assert_eq!(string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string("l1\nl2\r\n\tx"), r#""l1\nl2\r\n\tx""#);
        assert_eq!(
            string("\u{0}\u{1f}\u{8}\u{c}"),
            r#""\u0000\u001f\u0008\u000c""#
        );
        assert_eq!(string("\u{7f}é世😀\u{2028}"), "\"\u{7f}é世😀\u{2028}\"");
        assert_eq!(string("\"\""), r#""\"\"""#);
    }

    #[test]
    fn escaped_strings_parse_back() {
        let samples = [
            "",
            "x",
            "\"",
            "\\\\",
            "\u{0}a\u{1}",
            "日本語\n",
            "😀\r\n\u{2029}",
        ];
        for s in samples {
            let back: String = serde_json::from_str(&string(s)).unwrap();
            assert_eq!(back, s);
        }
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        let back: String = serde_json::from_str(&string(&every_ascii)).unwrap();
        assert_eq!(back, every_ascii);
    }

    #[test]
    fn numbers() {
        let mut dst = BytesMut::new();
        write_u64(&mut dst, 0);
        dst.put_u8(b' ');
        write_u64(&mut dst, u64::MAX);
        assert_eq!(&dst[..], b"0 18446744073709551615");
    }

    #[test]
    fn durations_are_exact_decimal_milliseconds() {
        let cases = [
            (Duration::ZERO, "0"),
            (Duration::from_millis(1234), "1234"),
            (Duration::from_micros(12_500), "12.5"),
            (Duration::from_micros(1), "0.001"),
            (Duration::from_nanos(1), "0.000001"),
            (Duration::new(1, 234_567_891), "1234.567891"),
            (
                Duration::new(u64::MAX, 999_999_999),
                "18446744073709551615999.999999",
            ),
        ];
        for (d, text) in cases {
            let mut dst = BytesMut::new();
            write_duration_ms(&mut dst, d);
            assert_eq!(&dst[..], text.as_bytes());
            assert_eq!(parse_duration_ms(text), Some(d), "{text}");
        }
    }

    #[test]
    fn duration_parsing_is_lenient_but_safe() {
        assert_eq!(
            parse_duration_ms("1.5e3"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_duration_ms("2.0000019"),
            Some(Duration::from_nanos(2_000_001))
        );
        for bad in [
            "-1",
            "",
            "abc",
            "1e400",
            "18446744073709551616000",
            "NaN",
            "\"1\"",
        ] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }
}
