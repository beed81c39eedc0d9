//! The client secret read from SSM Parameter Store and Secrets Manager on the
//! local AWS: the value comes back whole; a missing or binary secret is an
//! error that names where it looked, never a value.

use proactive_aws::aws_sdk_secretsmanager::primitives::Blob;
use proactive_aws::{SecretSource, aws_sdk_secretsmanager, aws_sdk_ssm};
use secrecy::ExposeSecret;

const SECRET: &str = "amzn1.oa2-cs.v1.secret-for-the-test";

#[tokio::test]
async fn the_secret_comes_from_ssm_or_secrets_manager_and_never_into_an_error() {
    let Some(moto) = proactive_tests::moto() else { return };
    let config = moto.sdk_config().await;
    let name = format!("/{}", proactive_tests::unique_name("secret"));
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name(&name)
        .value(format!("{SECRET}\n"))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let read = SecretSource::Ssm(name.clone()).read(&config).await.unwrap();
    assert_eq!(read.expose_secret(), SECRET, "read with decryption, the pasted newline removed");
    assert!(!format!("{read:?}").contains(SECRET));

    let manager = aws_sdk_secretsmanager::Client::new(&config);
    let id = proactive_tests::unique_name("secret");
    manager.create_secret().name(&id).secret_string(SECRET).send().await.unwrap();
    let read = SecretSource::SecretsManager(id.clone()).read(&config).await.unwrap();
    assert_eq!(read.expose_secret(), SECRET);

    let binary = proactive_tests::unique_name("binary");
    manager.create_secret().name(&binary).secret_binary(Blob::new(SECRET.as_bytes())).send().await.unwrap();
    let error = SecretSource::SecretsManager(binary.clone()).read(&config).await.unwrap_err().to_string();
    assert!(error.contains(&format!("Secrets Manager secret `{binary}`")) && error.contains("binary"), "{error}");
    assert!(!error.contains(SECRET), "{error}");

    let error = SecretSource::Ssm(format!("{name}-missing")).read(&config).await.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("could not read the client secret from the SSM parameter `{name}-missing`: ")),
        "{error}"
    );
}
