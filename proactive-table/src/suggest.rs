//! The one "did you mean" engine, used by the derive's compile-time errors and by
//! the runtime's reports alike, and the lists that messages show instead.

/// How alike two words must be (Jaro-Winkler, 0 to 1) to suggest one for the other;
/// darling uses the same threshold.
pub const THRESHOLD: f64 = 0.8;

/// The candidate closest to `given`, if one is close enough to be a likely typo.
///
/// Words are compared without case, `_` or `-` (`start_time` is `startTime`); a
/// candidate that contains `given` (`type` in `alertType`) wins outright.
///
/// ```
/// use proactive_table::suggest::closest;
///
/// assert_eq!(closest("start_time", ["startTime", "provider"]), Some("startTime"));
/// assert_eq!(closest("title", ["name", "contentType"]), None);
/// ```
pub fn closest<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let given = normalize(given);
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let normalized = normalize(candidate);
        let score = if normalized == given {
            3.0
        } else if given.len() >= 4 && normalized.contains(&given) {
            2.0
        } else {
            strsim::jaro_winkler(&given, &normalized)
        };
        if score > THRESHOLD && best.is_none_or(|(best_score, _)| score > best_score) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

fn normalize(word: &str) -> String {
    word.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
}

/// `` `a`, `b` and `c` ``.
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    list_joined(items, "and")
}

/// `` `a`, `b` or `c` ``.
pub fn list_or<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    list_joined(items, "or")
}

fn list_joined<'a>(items: impl IntoIterator<Item = &'a str>, conjunction: &str) -> String {
    let items: Vec<String> = items.into_iter().map(|item| format!("`{item}`")).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// `; did you mean `x`?` when a candidate is close, otherwise nothing.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(given, candidates).map(|close| format!("; did you mean `{close}`?")).unwrap_or_default()
}

/// `; did you mean `x`?` when a candidate is close, otherwise `; <what> a, b or c`.
pub fn did_you_mean_or_list<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    match closest(given, candidates.clone()) {
        Some(close) => format!("; did you mean `{close}`?"),
        None => format!("; {what} {}", list_or(candidates)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_and_fragments() {
        let schemas = ["MediaContent.Available", "Occasion.Updated", "MessageAlert.Activated"];
        assert_eq!(closest("MediaContent.Availble", schemas), Some(schemas[0]));
        assert_eq!(closest("mediacontent", schemas), Some(schemas[0]));
        assert_eq!(closest("OCCASION.UPDATED", schemas), Some(schemas[1]));
        assert_eq!(closest("Reminder.Created", schemas), None);
        assert_eq!(closest("start_time", ["startTime", "provider", "method"]), Some("startTime"));
        assert_eq!(closest("type", ["source", "alertType"]), Some("alertType"));
        assert_eq!(closest("nme", ["name", "contentType"]), Some("name"));
        assert_eq!(closest("title", ["name", "contentType"]), None);
    }

    /// The cases the runtime's former engine was tested with give the same answers.
    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("garbageType", ["garbageTypes", "collectionDayOfWeek"]), Some("garbageTypes"));
        assert_eq!(closest("unicast", ["Unicast", "Multicast"]), Some("Unicast"));
        assert_eq!(closest("zzz", ["garbageTypes", "collectionDayOfWeek"]), None);
        assert_eq!(did_you_mean("refrenceId", ["referenceId", "timestamp"]), "; did you mean `referenceId`?");
        assert_eq!(did_you_mean("zzz", ["referenceId", "timestamp"]), "");
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list([]), "");
        assert_eq!(list(["a"]), "`a`");
        assert_eq!(list(["a", "b", "c"]), "`a`, `b` and `c`");
        assert_eq!(list_or(["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(did_you_mean_or_list("x", ["path", "key"], "expected"), "; expected `path` or `key`");
        assert_eq!(did_you_mean_or_list("pth", ["path", "key"], "expected"), "; did you mean `path`?");
    }
}
