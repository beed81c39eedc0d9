use proactive_core::schemas::media_content_available::Availability;

fn main() {
    // `startTime` and `method` are both required: one error each.
    let _ = Availability::builder().build();
}
