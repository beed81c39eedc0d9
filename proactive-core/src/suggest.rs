//! "Did you mean" suggestions.

/// The candidate closest to `input`, if one is close enough to be a likely typo.
pub(crate) fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score =
                if c.eq_ignore_ascii_case(input) { 1.0 } else { strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()) };
            (c, score)
        })
        .filter(|(_, score)| *score >= 0.85)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// `; did you mean `x`?` or nothing.
pub(crate) fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("garbageType", ["garbageTypes", "collectionDayOfWeek"]), Some("garbageTypes"));
        assert_eq!(closest("unicast", ["Unicast", "Multicast"]), Some("Unicast"));
        assert_eq!(closest("zzz", ["garbageTypes", "collectionDayOfWeek"]), None);
        assert_eq!(did_you_mean("refrenceId", ["referenceId", "timestamp"]), "; did you mean `referenceId`?");
    }
}
