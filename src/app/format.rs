//! How the app writes times and counts for people, in one place.

/// "m:ss": the ruler, the transport, exports' tooltips, training's ETA.
pub fn format_time(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// The first letter upper-cased: a core error as a sentence for the message line.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_minutes_and_seconds_and_never_go_negative() {
        assert_eq!(format_time(0.0), "0:00");
        assert_eq!(format_time(61.4), "1:01");
        assert_eq!(format_time(-3.0), "0:00");
    }

    #[test]
    fn a_core_refusal_reads_as_a_sentence() {
        assert_eq!(sentence("nothing to undo"), "Nothing to undo");
        assert_eq!(sentence(""), "");
    }
}
