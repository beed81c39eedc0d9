//! `proactive sandbox --skill-endpoint URL`: the sandbox plays Alexa and POSTs
//! one signed skill event to a skill's events endpoint; `proactive sandbox
//! --alexa-dir DIR` makes the CA that endpoint is told to trust.

use clap::{Args, ValueEnum};
use proactive_sandbox::{Alexa, skill_event};

use crate::{INVALID, OK, USAGE};

/// Playing Alexa against a skill's events endpoint.
#[derive(Args)]
pub(crate) struct AlexaArgs {
    /// Play Alexa: POST one signed skill event to this http:// endpoint, then exit.
    #[arg(long, value_name = "URL")]
    pub(crate) skill_endpoint: Option<String>,
    /// The sandbox Alexa's CA directory (default .proactive-sandbox/alexa); alone: make it and exit.
    #[arg(long, value_name = "DIR")]
    alexa_dir: Option<String>,
    /// The skill event to send (permission-revoked: without the notifications permission).
    #[arg(long, value_enum, default_value_t = Fire::SubscriptionChanged, requires = "skill_endpoint")]
    fire: Fire,
    /// The user the event is about.
    #[arg(long, value_name = "USER_ID", default_value = "amzn1.ask.account.SANDBOX", requires = "skill_endpoint")]
    user: String,
    /// The skill the event is for (`context.System.application.applicationId`).
    #[arg(long, value_name = "SKILL_ID", default_value = "amzn1.ask.skill.sandbox", requires = "skill_endpoint")]
    skill_id: String,
    /// For subscription-changed: an event now subscribed to (repeatable; none: unsubscribed).
    #[arg(long = "event", value_name = "NAME", requires = "skill_endpoint")]
    events: Vec<String>,
}

/// The skill events the sandbox can send. (Plain comments on the variants:
/// doc comments would switch clap's whole `--help` to its long layout.)
#[derive(Clone, Copy, ValueEnum)]
enum Fire {
    // `AlexaSkillEvent.ProactiveSubscriptionChanged` with the `--event` names.
    SubscriptionChanged,
    // `AlexaSkillEvent.SkillDisabled`.
    SkillDisabled,
    // `AlexaSkillEvent.SkillEnabled`.
    SkillEnabled,
    // `AlexaSkillEvent.SkillPermissionChanged` without the notifications permission.
    PermissionRevoked,
}

/// The CA directory when none is given.
const DEFAULT_DIR: &str = ".proactive-sandbox/alexa";

/// Plays Alexa if asked to: `None` when neither `--skill-endpoint` nor
/// `--alexa-dir` was given (then the sandbox server runs). Otherwise the exit
/// status: 0 on a 2xx answer (or the CA made), 1 on another answer, 2 on errors.
pub(crate) fn run(args: AlexaArgs) -> Option<u8> {
    let dir = args.alexa_dir.clone().unwrap_or_else(|| DEFAULT_DIR.to_owned());
    let url = match (&args.skill_endpoint, &args.alexa_dir) {
        (None, None) => return None,
        (Some(url), _) => url.clone(),
        (None, Some(_)) => {
            return Some(match Alexa::open(&dir) {
                Ok(_) => {
                    out!("the sandbox's Alexa CA is {dir}/ca.pem (tests only; never trust it in production)");
                    OK
                }
                Err(error) => {
                    error!("{error}");
                    USAGE
                }
            });
        }
    };
    Some(post(&args, &dir, &url))
}

/// Signs the event and POSTs it.
fn post(args: &AlexaArgs, dir: &str, url: &str) -> u8 {
    let alexa = match Alexa::open(dir) {
        Ok(alexa) => alexa,
        Err(error) => {
            error!("{error}");
            return USAGE;
        }
    };
    let events: Vec<&str> = args.events.iter().map(String::as_str).collect();
    let (skill, user) = (args.skill_id.as_str(), args.user.as_str());
    let event = match args.fire {
        Fire::SubscriptionChanged => skill_event::subscription_changed(skill, user, &events),
        Fire::SkillDisabled => skill_event::skill_disabled(skill, user),
        Fire::SkillEnabled => skill_event::skill_enabled(skill, user),
        Fire::PermissionRevoked => skill_event::permission_changed(skill, user, &[]),
    };
    let Some(runtime) = crate::runtime(crate::Threads::PerCore) else { return USAGE };
    match runtime.block_on(alexa.post(url, &event)) {
        Ok(answer) => {
            out!("{} {}  {}", answer.status, event["request"]["type"].as_str().unwrap_or_default(), answer.body.trim());
            out!("signed by the sandbox's Alexa CA in {dir}/ca.pem");
            if (200..300).contains(&answer.status) { OK } else { INVALID }
        }
        Err(error) => {
            error!("{error}");
            USAGE
        }
    }
}
