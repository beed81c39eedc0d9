//! `Alexa::open(DIR)` keeps its keys private: never written through a link
//! planted at a temporary name, never left readable by others, never in a
//! directory other users can write to. Run as root in CI, like the attack.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use proactive_sandbox::Alexa;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The temporary name the key would be written through first.
fn first_temporary(dir: &Path, key: &str) -> std::path::PathBuf {
    dir.join(key).with_extension(format!("tmp{}", std::process::id()))
}

#[test]
fn a_link_planted_at_the_temporary_name_does_not_write_the_key_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let alexa_dir = dir.path().join("alexa");
    std::fs::create_dir(&alexa_dir).unwrap();
    std::fs::set_permissions(&alexa_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&victim, first_temporary(&alexa_dir, "ca-key.pem")).unwrap();

    Alexa::open(&alexa_dir).unwrap();

    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n", "the victim is untouched");
    assert_eq!(mode(&victim), 0o644);
    let key = std::fs::read_to_string(alexa_dir.join("ca-key.pem")).unwrap();
    assert!(key.contains("PRIVATE KEY"), "the key is where it belongs");
    assert_eq!(mode(&alexa_dir.join("ca-key.pem")), 0o600);
}

#[test]
fn a_pre_created_readable_temporary_file_does_not_leave_the_keys_readable() {
    let dir = tempfile::tempdir().unwrap();
    let alexa_dir = dir.path().join("alexa");
    std::fs::create_dir(&alexa_dir).unwrap();
    std::fs::set_permissions(&alexa_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for key in ["ca-key.pem", "signing-key.pem"] {
        let temporary = first_temporary(&alexa_dir, key);
        std::fs::write(&temporary, "").unwrap();
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    Alexa::open(&alexa_dir).unwrap();

    for key in ["ca-key.pem", "signing-key.pem"] {
        assert_eq!(mode(&alexa_dir.join(key)), 0o600, "{key}");
    }
    assert_eq!(mode(&alexa_dir.join("ca.pem")), 0o644, "the CA certificate is public");
}

#[test]
fn a_directory_others_can_write_to_is_refused() {
    for shared in [0o777, 0o1777, 0o775, 0o757] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(shared)).unwrap();
        let error = Alexa::open(dir.path()).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("can be written by other users") && message.contains("chmod go-w"), "{message}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "{shared:o}: nothing written");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    Alexa::open(dir.path()).unwrap();
    // A directory it makes is its owner's alone, whatever the umask.
    let made = dir.path().join("new").join("alexa");
    Alexa::open(&made).unwrap();
    assert_eq!(mode(&made), 0o700);
}
