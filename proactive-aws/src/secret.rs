//! The Login with Amazon client secret from SSM Parameter Store or Secrets
//! Manager, so that it never sits in plain text in a function's configuration.

use std::fmt;

use proactive_core::client::SecretString;

/// Where the client secret is kept in AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretSource {
    /// An SSM Parameter Store parameter (a `SecureString`, read with
    /// decryption), by name or ARN.
    Ssm(String),
    /// A Secrets Manager secret (its `SecretString`, the current version), by
    /// name or ARN.
    SecretsManager(String),
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ssm(name) => write!(f, "SSM parameter `{name}`"),
            Self::SecretsManager(id) => write!(f, "Secrets Manager secret `{id}`"),
        }
    }
}

/// The secret could not be read. It names where it looked and why, never the
/// value.
#[derive(Debug, thiserror::Error)]
#[error("could not read the client secret from the {source_name}: {reason}")]
pub struct SecretError {
    source_name: String,
    reason: String,
}

impl SecretSource {
    /// Reads the secret, with the credentials and region of `config`.
    /// Surrounding whitespace is removed (a value pasted with its newline).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use proactive_aws::SecretSource;
    ///
    /// let config = proactive_aws::sdk_config(None).await;
    /// let secret = SecretSource::Ssm("/proactive/client-secret".into()).read(&config).await?;
    /// let client = proactive_core::client::Client::builder("amzn1.application-oa2-client.…", secret).build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn read(&self, config: &aws_config::SdkConfig) -> Result<SecretString, SecretError> {
        let fail = |reason: String| SecretError { source_name: self.to_string(), reason };
        let value = match self {
            Self::Ssm(name) => {
                let output = aws_sdk_ssm::Client::new(config)
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| fail(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
                output.parameter.and_then(|p| p.value).ok_or_else(|| fail("the parameter has no value".to_owned()))?
            }
            Self::SecretsManager(id) => {
                let output = aws_sdk_secretsmanager::Client::new(config)
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| fail(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string()))?;
                output.secret_string.ok_or_else(|| {
                    fail(
                        "the secret has no `SecretString` (a binary secret); store the client secret as text"
                            .to_owned(),
                    )
                })?
            }
        };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(fail("the value is empty".to_owned()));
        }
        Ok(SecretString::from(trimmed.to_owned()))
    }
}
