//! The options that say how to reach Amazon: shared by `send` and `queue work`.

use proactive_core::Region;
use proactive_core::client::{Client, ClientBuilder, Stage};

/// Credentials, region, stage and endpoints of the Proactive Events API.
#[derive(clap::Args)]
pub(crate) struct ClientArgs {
    /// The skill's Alexa Skill Messaging client id [env: ALEXA_CLIENT_ID].
    #[arg(long)]
    pub(crate) client_id: Option<String>,
    /// The skill's Alexa Skill Messaging client secret [env: ALEXA_CLIENT_SECRET].
    /// Visible to other users of the machine (`ps`, /proc): prefer --client-secret-file or the variable.
    #[arg(long, value_name = "SECRET", conflicts_with = "client_secret_file")]
    pub(crate) client_secret: Option<String>,
    /// Read the client secret from this file (`-`: from standard input), out of other users' sight.
    #[arg(long, value_name = "PATH")]
    pub(crate) client_secret_file: Option<String>,
    /// Read the client secret from this SSM Parameter Store parameter (a SecureString) with the AWS credentials.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "NAME", conflicts_with_all = ["client_secret", "client_secret_file"])]
    pub(crate) client_secret_ssm: Option<String>,
    /// Read the client secret from this Secrets Manager secret (its text) with the AWS credentials.
    #[cfg(feature = "aws")]
    #[arg(long, value_name = "ID", conflicts_with_all = ["client_secret", "client_secret_file", "client_secret_ssm"])]
    pub(crate) client_secret_secretsmanager: Option<String>,
    /// The secret read from AWS by `resolve_aws_secret`.
    #[cfg(feature = "aws")]
    #[arg(skip)]
    pub(crate) aws_secret: Option<proactive_core::client::SecretString>,
    /// The region of the users: na, eu or fe.
    #[arg(long, default_value = "na")]
    pub(crate) region: Region,
    /// development (testers subscribed in the Alexa app) or live (after certification).
    #[arg(long, default_value = "development")]
    pub(crate) stage: Stage,
    /// Send to this base URL instead of the region's host.
    #[arg(long)]
    pub(crate) endpoint: Option<String>,
    /// Get tokens from this URL instead of Login with Amazon.
    #[arg(long)]
    pub(crate) token_url: Option<String>,
    /// Attempts per event, retries included (429, 5xx, timeouts, dropped connections).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub(crate) max_attempts: u32,
}

impl ClientArgs {
    /// A builder with the credentials (from the flags, a file or the
    /// environment) and the region; `sandbox_hint` adds "or use --sandbox" to
    /// the error. `event_paths` are the command's inputs (standard input cannot
    /// hold both them and the secret).
    pub(crate) fn credentials(&self, sandbox_hint: bool, event_paths: &[String]) -> Result<ClientBuilder, String> {
        let id = self.client_id.clone().or_else(|| std::env::var("ALEXA_CLIENT_ID").ok());
        #[cfg(feature = "aws")]
        if let Some(secret) = &self.aws_secret {
            let id = id.ok_or("credentials are required: pass --client-id or set ALEXA_CLIENT_ID")?;
            return Ok(Client::builder(id, secret.clone()).region(self.region));
        }
        #[cfg(feature = "aws")]
        if self.client_secret_ssm.is_some() || self.client_secret_secretsmanager.is_some() {
            return Err("--client-secret-ssm and --client-secret-secretsmanager work with `proactive queue work`; \
                        here pass --client-secret-file or set ALEXA_CLIENT_SECRET"
                .to_owned());
        }
        let secret =
            crate::secret::resolve(self.client_secret.as_deref(), self.client_secret_file.as_deref(), event_paths)?;
        let (Some(id), Some(secret)) = (id, secret) else {
            return Err(format!(
                "credentials are required: pass --client-id and --client-secret-file, or set ALEXA_CLIENT_ID and \
                 ALEXA_CLIENT_SECRET (the Alexa Skill Messaging credentials from the skill's Permissions page){}",
                if sandbox_hint { "; or use --sandbox" } else { "" }
            ));
        };
        Ok(Client::builder(id, secret).region(self.region))
    }

    /// Reads the secret from SSM or Secrets Manager when a flag names it, with
    /// the AWS configuration `config`; [`credentials`](Self::credentials) then
    /// uses it.
    #[cfg(feature = "aws")]
    pub(crate) async fn resolve_aws_secret(
        &mut self,
        config: &proactive_aws::aws_config::SdkConfig,
    ) -> Result<(), String> {
        let source = match (&self.client_secret_ssm, &self.client_secret_secretsmanager) {
            (Some(name), _) => proactive_aws::SecretSource::Ssm(name.clone()),
            (None, Some(id)) => proactive_aws::SecretSource::SecretsManager(id.clone()),
            (None, None) => return Ok(()),
        };
        self.aws_secret = Some(source.read(config).await.map_err(|e| e.to_string())?);
        Ok(())
    }

    /// Stage, retries, and (unless `sandbox`) the endpoint and token URL.
    pub(crate) fn configure(&self, mut builder: ClientBuilder, sandbox: bool) -> ClientBuilder {
        builder = builder
            .stage(self.stage)
            .retry_policy(proactive_core::client::RetryPolicy::default().with_max_attempts(self.max_attempts));
        if !sandbox {
            if let Some(endpoint) = &self.endpoint {
                builder = builder.base_url(endpoint.clone());
            }
            if let Some(token_url) = &self.token_url {
                builder = builder.token_url(token_url.clone());
            }
        }
        builder
    }
}
