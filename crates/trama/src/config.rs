//! Loads the settings once: defaults, then a TOML file, then `TRAMA_*` variables, then flags.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use std::path::{Path, PathBuf};

use trama_server::Config;
use trama_server::config::Secret;

/// The top-level settings that `TRAMA_*` variables may set (others, such as the test suite's
/// `TRAMA_PG_BIN`, are not settings and are left alone).
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database",
    "database_max_connections",
    "public_url",
    "behind_proxy",
    "time_zone",
    "territory_name",
    "map",
    "limits",
    "mail",
    "matching",
    "register",
];

pub fn figment(file: Option<&Path>) -> Result<Figment> {
    let mut f = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(p) => {
            anyhow::ensure!(
                p.exists(),
                "the settings file {} does not exist",
                p.display()
            );
            f = f.merge(Toml::file(p));
        }
        None if Path::new("trama.toml").exists() => f = f.merge(Toml::file("trama.toml")),
        None => {}
    }
    // Keys reach the filter upper-case and already split ("LIMITS.LOGIN_PER_MINUTE").
    let is_setting = |k: &figment::value::UncasedStr| {
        let k = k.as_str().to_ascii_lowercase();
        let top = k.split('.').next().unwrap_or("");
        KEYS.contains(&top)
    };
    Ok(f.merge(Env::prefixed("TRAMA_").split("__").filter(is_setting)))
}

pub fn load(
    file: Option<&Path>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
) -> Result<Config> {
    let mut cfg: Config = figment(file)?.extract().context("reading the settings")?;
    if let Some(d) = data_dir {
        cfg.data_dir = d;
    }
    if let Some(db) = database {
        cfg.database = Some(Secret::new(db));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure type is figment's own.
    fn the_example_file_holds_the_defaults() {
        // In a jail: other tests set TRAMA_* variables, which are process-wide.
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", trama_server::config::EXAMPLE_TOML)?;
            let cfg = load(Some(Path::new("t.toml")), None, None).unwrap();
            assert_eq!(cfg, Config::default());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure type is figment's own.
    fn layers_override_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "t.toml",
                "listen = \"0.0.0.0:9000\"\n[limits]\nlogin_per_minute = 3\n",
            )?;
            jail.set_env("TRAMA_LIMITS__LOGIN_PER_MINUTE", "7");
            jail.set_env("TRAMA_PG_BIN", "/not/a/setting");
            let cfg = load(
                Some(Path::new("t.toml")),
                Some("/srv/trama".into()),
                Some("postgres://x@y/z".into()),
            )
            .unwrap();
            assert_eq!(cfg.listen.to_string(), "0.0.0.0:9000");
            assert_eq!(cfg.limits.login_per_minute, 7, "environment beats the file");
            assert_eq!(
                cfg.data_dir,
                PathBuf::from("/srv/trama"),
                "flags beat everything"
            );
            assert_eq!(cfg.database_url(), "postgres://x@y/z");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure type is figment's own.
    fn unknown_settings_are_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("t.toml", "lisen = \"x\"\n")?;
            let e = load(Some(Path::new("t.toml")), None, None).unwrap_err();
            assert!(format!("{e:#}").contains("lisen"), "{e:#}");
            Ok(())
        });
    }
}
