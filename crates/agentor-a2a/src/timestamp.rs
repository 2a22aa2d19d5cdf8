//! RFC 3339 timestamps without a date-time dependency: ours are written in
//! UTC, and a client's are read with any offset.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as `2026-01-02T03:04:05.678Z`.
pub fn now() -> String {
    format_millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
    )
}

/// An RFC 3339 timestamp (`2026-01-02T03:04:05.678Z`, any fraction, `Z` or
/// an offset such as `+02:00`) as nanoseconds since the Unix epoch; what is
/// not one is `Err` saying why.
///
/// ```
/// use agentor_a2a::timestamp::parse_nanos;
///
/// assert_eq!(parse_nanos("1970-01-01T00:00:01Z"), Ok(1_000_000_000));
/// assert_eq!(parse_nanos("1970-01-01T02:00:00.5+02:00"), Ok(500_000_000));
/// assert!(parse_nanos("yesterday").is_err());
/// assert!(parse_nanos("2026-02-30T00:00:00Z").is_err());
/// ```
pub fn parse_nanos(at: &str) -> Result<i128, String> {
    let bad = |why: &str| format!("not an RFC 3339 timestamp such as 2026-01-02T03:04:05Z ({why})");
    let bytes = at.as_bytes();
    if bytes.len() < 20 || !at.is_ascii() {
        return Err(bad("too short"));
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let digits = &at[range];
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().map_err(|_| bad("a number is out of range"))
        } else {
            Err(bad("digits expected"))
        }
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(i, c)| bytes[i] != c) || !matches!(bytes[10], b'T' | b't') {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let valid_day = usize::try_from(month - 1)
        .ok()
        .and_then(|m| month_days.get(m))
        .is_some_and(|&last| (1..=last).contains(&day));
    if !valid_day || hour > 23 || minute > 59 || second > 60 {
        return Err(bad("a field is out of range"));
    }
    let mut rest = &at[19..];
    let mut nanos: i64 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("digits expected after '.'"));
        }
        for (i, b) in fraction.bytes().take(digits).enumerate() {
            if i < 9 {
                nanos = nanos * 10 + i64::from(b - b'0');
            }
        }
        nanos *= 10_i64.pow(9 - u32::try_from(digits.min(9)).unwrap_or(9));
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let (h, m) = (
                number(at.len() - 5..at.len() - 3)?,
                number(at.len() - 2..at.len())?,
            );
            if h > 23 || m > 59 {
                return Err(bad("the offset is out of range"));
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(bad("expected Z or an offset such as +02:00")),
    };
    // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Ok(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
}

/// Milliseconds since the Unix epoch as an RFC 3339 UTC timestamp.
///
/// ```
/// assert_eq!(agentor_a2a::timestamp::format_millis(0), "1970-01-01T00:00:00.000Z");
/// assert_eq!(agentor_a2a::timestamp::format_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
/// ```
pub fn format_millis(millis: u64) -> String {
    let secs = millis / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_we_write_we_read_back() {
        for millis in [0, 1, 951_782_400_123, 1_800_000_000_999] {
            let at = format_millis(millis);
            assert_eq!(parse_nanos(&at), Ok(i128::from(millis) * 1_000_000), "{at}");
        }
    }

    #[test]
    fn offsets_and_fractions_are_exact_and_junk_is_refused() {
        let utc = parse_nanos("2026-03-01T00:00:00Z").unwrap();
        assert_eq!(parse_nanos("2026-02-28T23:30:00-00:30"), Ok(utc));
        assert_eq!(parse_nanos("2026-03-01T00:00:00.000000000001Z"), Ok(utc));
        assert_eq!(
            parse_nanos("2026-03-01T00:00:00.123456789Z"),
            Ok(utc + 123_456_789)
        );
        for junk in [
            "yesterday",
            "",
            "2026-03-01",
            "2026-03-01 00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-03-01T24:00:00Z",
            "2026-03-01T00:00:00",
            "2026-03-01T00:00:00.Z",
            "2026-03-01T00:00:00+2:00",
            "2026-03-01T00:00:00Zjunk",
            "２026-03-01T00:00:00Z",
        ] {
            assert!(parse_nanos(junk).is_err(), "{junk}");
        }
    }
}
