//! Amazon's regions and the hosts of the Proactive Events API.

use std::fmt;
use std::str::FromStr;

/// The region whose Alexa API host serves a user. Send to the region where the
/// user is: an NA user's event sent to the EU host reaches no one.
///
/// ```
/// use proactive_core::Region;
///
/// // The region of a request Alexa sent to the skill (`context.System.apiEndpoint`).
/// assert_eq!(Region::from_api_endpoint("https://api.eu.amazonalexa.com"), Some(Region::Europe));
/// assert_eq!(Region::from_api_endpoint("https://example.com"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Region {
    /// North America: `https://api.amazonalexa.com`.
    #[serde(rename = "NA")]
    NorthAmerica,
    /// Europe: `https://api.eu.amazonalexa.com`.
    #[serde(rename = "EU")]
    Europe,
    /// Far East: `https://api.fe.amazonalexa.com`.
    #[serde(rename = "FE")]
    FarEast,
}

impl Region {
    /// Every region.
    pub const ALL: [Self; 3] = [Self::NorthAmerica, Self::Europe, Self::FarEast];

    /// The region's Alexa API host, without a trailing slash.
    pub const fn api_host(self) -> &'static str {
        match self {
            Self::NorthAmerica => "https://api.amazonalexa.com",
            Self::Europe => "https://api.eu.amazonalexa.com",
            Self::FarEast => "https://api.fe.amazonalexa.com",
        }
    }

    /// The short code: `NA`, `EU` or `FE`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NorthAmerica => "NA",
            Self::Europe => "EU",
            Self::FarEast => "FE",
        }
    }

    /// The region of the `apiEndpoint` that Alexa puts in every request to a skill
    /// (`context.System.apiEndpoint`), such as `https://api.eu.amazonalexa.com`.
    /// A trailing slash or path is ignored; an unknown host gives `None`.
    pub fn from_api_endpoint(endpoint: &str) -> Option<Self> {
        let rest = endpoint.trim().strip_prefix("https://")?;
        let host = rest.split(['/', '?', '#']).next()?.trim_end_matches('.').to_ascii_lowercase();
        Self::ALL.into_iter().find(|r| r.api_host().strip_prefix("https://") == Some(host.as_str()))
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A string that names no region.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown region `{0}`: use `na`, `eu` or `fe`")]
pub struct UnknownRegion(String);

impl FromStr for Region {
    type Err = UnknownRegion;

    /// Parses `na`, `eu` or `fe` (any case).
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| UnknownRegion(code.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_endpoints_map_to_regions() {
        assert_eq!(Region::from_api_endpoint("https://api.amazonalexa.com"), Some(Region::NorthAmerica));
        assert_eq!(Region::from_api_endpoint("https://api.eu.amazonalexa.com/"), Some(Region::Europe));
        assert_eq!(Region::from_api_endpoint("https://API.FE.amazonalexa.com/v1"), Some(Region::FarEast));
        assert_eq!(Region::from_api_endpoint("http://api.amazonalexa.com"), None);
        assert_eq!(Region::from_api_endpoint("https://api.amazonalexa.com.evil.example"), None);
        assert_eq!(Region::from_api_endpoint(""), None);
    }

    #[test]
    fn codes_parse() {
        assert_eq!("eu".parse::<Region>().unwrap(), Region::Europe);
        assert_eq!("FE".parse::<Region>().unwrap(), Region::FarEast);
        assert_eq!("xx".parse::<Region>().unwrap_err().to_string(), "unknown region `xx`: use `na`, `eu` or `fe`");
    }
}
