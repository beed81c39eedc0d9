//! Numbers in JSON text, kept as written: serde_json's `Value` (without the
//! `arbitrary_precision` feature, which would change `Value` for every crate in
//! a build) reads `1.0`, `1e3` or a 30-digit integer as an `f64` and writes it
//! back differently. A rewrite that adds no number (merging skill.json) puts
//! the original spellings back, in order.

use std::ops::Range;

/// `rewritten` with each number token replaced by the same-position token of
/// `original`, when both have the same numbers in the same order (by value);
/// otherwise `rewritten` unchanged.
pub(crate) fn restore(original: &str, rewritten: String) -> String {
    let before = tokens(original);
    let after = tokens(&rewritten);
    let same = before.len() == after.len()
        && before.iter().zip(&after).all(|(b, a)| same_value(&original[b.clone()], &rewritten[a.clone()]));
    if !same || before.iter().zip(&after).all(|(b, a)| original[b.clone()] == rewritten[a.clone()]) {
        return rewritten;
    }
    let mut out = String::with_capacity(rewritten.len());
    let mut at = 0;
    for (b, a) in before.into_iter().zip(after) {
        out.push_str(&rewritten[at..a.start]);
        out.push_str(&original[b]);
        at = a.end;
    }
    out.push_str(&rewritten[at..]);
    out
}

/// Whether two number tokens denote the same number, as serde_json reads them.
fn same_value(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Number>(a), serde_json::from_str::<serde_json::Number>(b)) {
        (Ok(a), Ok(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => false,
    }
}

/// The byte ranges of the number tokens of JSON text (outside strings).
fn tokens(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                out.push(start..i);
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_put_back_as_written() {
        let original = r#"{"a": 1.0, "s": "x 1.0 \" 2", "b": [1e3, -0.50, 123456789012345678901234567890], "c": 7}"#;
        let value: serde_json::Value = serde_json::from_str(original).unwrap();
        let rewritten = format!("{value:#}");
        assert!(!rewritten.contains("1e3"), "serde_json rewrites numbers: {rewritten}");
        let restored = restore(original, rewritten);
        for number in ["1.0", "1e3", "-0.50", "123456789012345678901234567890", "7"] {
            assert!(restored.contains(number), "{number} in {restored}");
        }
        assert_eq!(serde_json::from_str::<serde_json::Value>(&restored).unwrap(), value);
    }

    #[test]
    fn different_numbers_are_left_alone() {
        assert_eq!(restore("[1, 2]", "[1, 3]".to_owned()), "[1, 3]");
        assert_eq!(restore("[1]", "[1, 2]".to_owned()), "[1, 2]");
    }
}
