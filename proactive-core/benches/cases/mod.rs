//! The benchmarks' inputs: each schema's first example as a typed event with
//! its localized attributes.

use proactive_core::schemas::{AnyEvent, EventName};
use proactive_core::{Locale, LocalizedAttributes};

/// One schema's example.
pub(crate) struct Case {
    pub(crate) name: EventName,
    pub(crate) event: AnyEvent,
    pub(crate) localized: LocalizedAttributes,
}

/// Every schema's first example.
pub(crate) fn cases() -> Vec<Case> {
    EventName::ALL
        .iter()
        .map(|&name| {
            let text = name.schema().examples[0];
            let payload: serde_json::Value = serde_json::from_str(text).expect("examples are JSON");
            let event: AnyEvent =
                serde_json::from_value(serde_json::json!({"name": name.as_str(), "payload": payload}))
                    .expect("examples fit their schema");
            let mut localized = LocalizedAttributes::new();
            for key in text.split("localizedattribute:").skip(1).filter_map(|s| s.split('"').next()) {
                localized.insert(Locale::en_us(), key, format!("{key} text")).expect("example keys are valid");
            }
            Case { name, event, localized }
        })
        .collect()
}
