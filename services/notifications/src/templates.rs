//! Message templates: for every kind a subject, a text part and an HTML part per locale
//! (`<locale>/<kind>.subject.txt`, `.txt`, `.html`), with the HTML parts extending
//! `layout.html`; order updates also have a short text (`<kind>.short.txt`) for SMS and
//! push, whose title is the subject. The shop's own copies in `notifications.templates_dir` win over the
//! built-in ones, file by file. HTML is auto-escaped; text and subjects are not.
//! A locale without a template falls back to its language (`fr-CA` → `fr`), then to the
//! shop's default locale, then to `en`.

use std::path::PathBuf;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::domain::Kind;

/// The locales shipped with Weft.
pub const LOCALES: [&str; 2] = ["en", "fr"];

macro_rules! embed {
    ($($locale:literal: [$($kind:literal),* $(,)?]),* $(,)?) => {
        &[
            ("layout.html", include_str!("../templates/layout.html")),
            $($(
                (concat!($locale, "/", $kind, ".subject.txt"),
                 include_str!(concat!("../templates/", $locale, "/", $kind, ".subject.txt"))),
                (concat!($locale, "/", $kind, ".txt"),
                 include_str!(concat!("../templates/", $locale, "/", $kind, ".txt"))),
                (concat!($locale, "/", $kind, ".html"),
                 include_str!(concat!("../templates/", $locale, "/", $kind, ".html"))),
            )*)*
        ]
    };
}

macro_rules! embed_short {
    ($($locale:literal: [$($kind:literal),* $(,)?]),* $(,)?) => {
        &[
            $($(
                (concat!($locale, "/", $kind, ".short.txt"),
                 include_str!(concat!("../templates/", $locale, "/", $kind, ".short.txt"))),
            )*)*
        ]
    };
}

/// The built-in templates, by name.
static BUILT_IN: &[(&str, &str)] = embed! {
    "en": [
        "welcome", "verify_email", "password_reset", "account_locked", "order_confirmation",
        "order_shipped", "order_delivered", "order_cancelled", "order_refunded",
        "return_received", "low_stock", "webhook_disabled", "cart_reminder",
    ],
    "fr": [
        "welcome", "verify_email", "password_reset", "account_locked", "order_confirmation",
        "order_shipped", "order_delivered", "order_cancelled", "order_refunded",
        "return_received", "low_stock", "webhook_disabled", "cart_reminder",
    ],
};

/// The built-in short texts (SMS, push) of order updates.
static BUILT_IN_SHORT: &[(&str, &str)] = embed_short! {
    "en": ["order_confirmation", "order_shipped", "order_delivered", "order_cancelled"],
    "fr": ["order_confirmation", "order_shipped", "order_delivered", "order_cancelled"],
};

/// A message as its templates made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The locale whose templates were used.
    pub locale: String,
    pub subject: String,
    pub text: String,
    /// E-mail only.
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    name: String,
    source: minijinja::Error,
}

/// The templates of this process.
pub struct Templates {
    env: Environment<'static>,
    default_locale: String,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("default_locale", &self.default_locale)
            .finish_non_exhaustive()
    }
}

fn built_in(name: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .chain(BUILT_IN_SHORT)
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

impl Templates {
    /// Built-in templates, overridden file by file by those in `dir`.
    pub fn new(dir: Option<PathBuf>, default_locale: &str) -> Self {
        let mut env = Environment::new();
        // A misspelt variable fails the render (and the test that renders every
        // template) instead of leaving a hole in a customer's e-mail.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_loader(move |name| {
            // Names come from Weft and from the templates themselves; never leave `dir`.
            if name.split('/').any(|part| part == ".." || part.is_empty()) {
                return Ok(None);
            }
            if let Some(dir) = &dir {
                let path = dir.join(name);
                match std::fs::read_to_string(&path) {
                    Ok(text) => return Ok(Some(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            format!("cannot read {}: {e}", path.display()),
                        ));
                    }
                }
            }
            Ok(built_in(name).map(str::to_owned))
        });
        Self {
            env,
            default_locale: default_locale.to_owned(),
        }
    }

    /// The locale whose templates `kind` uses for someone asking for `wanted`.
    fn locale_for(&self, kind: Kind, wanted: Option<&str>) -> String {
        let mut candidates = Vec::with_capacity(4);
        if let Some(w) = wanted.map(str::trim).filter(|w| !w.is_empty()) {
            candidates.push(w.to_owned());
            if let Some((language, _)) = w.split_once(['-', '_']) {
                candidates.push(language.to_owned());
            }
        }
        candidates.push(self.default_locale.clone());
        candidates.push("en".to_owned());
        candidates
            .into_iter()
            .find(|l| {
                self.env
                    .get_template(&format!("{l}/{}.subject.txt", kind.as_str()))
                    .is_ok()
            })
            .unwrap_or_else(|| "en".to_owned())
    }

    /// Renders `kind`'s e-mail for `locale` with `context`.
    pub fn render(
        &self,
        kind: Kind,
        locale: Option<&str>,
        context: &impl Serialize,
    ) -> Result<Rendered, TemplateError> {
        self.render_parts(kind, locale, context, false)
    }

    /// Renders `kind`'s short text (SMS, push) for `locale`: the subject and
    /// `<kind>.short.txt`.
    pub fn render_short(
        &self,
        kind: Kind,
        locale: Option<&str>,
        context: &impl Serialize,
    ) -> Result<Rendered, TemplateError> {
        self.render_parts(kind, locale, context, true)
    }

    fn render_parts(
        &self,
        kind: Kind,
        locale: Option<&str>,
        context: &impl Serialize,
        short: bool,
    ) -> Result<Rendered, TemplateError> {
        let locale = self.locale_for(kind, locale);
        let ctx = minijinja::Value::from(minijinja::value::Serde(context));
        let part = |suffix: &str| {
            let name = format!("{locale}/{}.{suffix}", kind.as_str());
            self.env
                .get_template(&name)
                .and_then(|t| t.render(&ctx))
                .map_err(|source| TemplateError {
                    name: name.clone(),
                    source,
                })
        };
        // A subject is one line, whatever the template's line breaks.
        let subject = part("subject.txt")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let (text, html) = if short {
            // An SMS is one paragraph: no stray blank lines from template tags.
            let text = part("short.txt")?;
            (text.split_whitespace().collect::<Vec<_>>().join(" "), None)
        } else {
            (part("txt")?, Some(part("html")?))
        };
        Ok(Rendered {
            locale,
            subject,
            text,
            html,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context with every variable any template uses.
    fn context() -> serde_json::Value {
        serde_json::json!({
            "shop_name": "Loom & Co",
            "storefront_url": "https://shop.example",
            "admin_url": "https://shop.example/admin",
            "name": "Ana <Ana>",
            "link": "https://shop.example/account/reset-password?token=abc",
            "expires_in_minutes": 30,
            "expires_in_days": 7,
            "locked_until": "2026-12-07 10:00 UTC",
            "order_id": "ord_1",
            "order_url": "https://shop.example/account/orders/ord_1",
            "total": "49.90 EUR",
            "item_count": 2,
            "tracking_number": "1Z999",
            "carrier": "UPS",
            "reason": "customer asked",
            "amount": "10.00 EUR",
            "refunded_total": "10.00 EUR",
            "restock": true,
            "variant_id": "var_1",
            "available": 2,
            "threshold": 5,
            "endpoint_id": "whe_1",
            "url": "https://hooks.example/weft",
            "cart_url": "https://shop.example/cart",
            "unsubscribe_url": "https://shop.example/account/unsubscribe?token=t",
        })
    }

    #[test]
    fn every_template_renders_in_every_locale() {
        let t = Templates::new(None, "en");
        for locale in LOCALES {
            for kind in Kind::ALL {
                let r = t.render(kind, Some(locale), &context()).unwrap();
                assert_eq!(r.locale, locale);
                assert!(
                    !r.subject.is_empty() && !r.subject.contains('\n'),
                    "{kind:?}"
                );
                assert!(r.text.len() > 20, "{locale}/{kind:?} text");
                let html = r.html.unwrap();
                assert!(html.contains("<html") && html.contains("Loom &amp; Co"));
                // HTML escapes what customers typed; text keeps it as typed.
                if kind == Kind::Welcome {
                    assert!(html.contains("Ana &lt;Ana&gt;") && r.text.contains("Ana <Ana>"));
                }
                if kind.is_marketing() {
                    assert!(
                        html.contains("unsubscribe?token=t")
                            && r.text.contains("account/unsubscribe?token=t"),
                        "{locale}/{kind:?}: every marketing e-mail says how to stop them"
                    );
                }
                if kind.is_order_update() {
                    let short = t.render_short(kind, Some(locale), &context()).unwrap();
                    assert_eq!(short.locale, locale);
                    assert!(short.html.is_none());
                    // One SMS segment of Unicode text is 70 characters; allow three.
                    let chars = short.text.chars().count();
                    assert!((20..=210).contains(&chars), "{locale}/{kind:?}: {chars}");
                    assert!(short.text.contains("ord_1"), "{locale}/{kind:?}");
                }
            }
        }
    }

    #[test]
    fn a_missing_variable_fails_the_render() {
        let t = Templates::new(None, "en");
        let err = t
            .render(
                Kind::PasswordReset,
                None,
                &serde_json::json!({"shop_name": "x"}),
            )
            .unwrap_err();
        assert!(err.to_string().contains("en/password_reset"), "{err}");
    }

    #[test]
    fn locales_fall_back_to_the_language_then_the_default() {
        let t = Templates::new(None, "fr");
        let ctx = context();
        assert_eq!(
            t.render(Kind::Welcome, Some("fr-CA"), &ctx).unwrap().locale,
            "fr"
        );
        assert_eq!(
            t.render(Kind::Welcome, Some("de"), &ctx).unwrap().locale,
            "fr"
        );
        assert_eq!(t.render(Kind::Welcome, None, &ctx).unwrap().locale, "fr");
        let en = Templates::new(None, "de");
        assert_eq!(
            en.render(Kind::Welcome, Some("de-AT"), &ctx)
                .unwrap()
                .locale,
            "en"
        );
    }

    #[test]
    fn the_shops_own_templates_win_file_by_file() {
        let dir = std::env::temp_dir().join(format!("weft-templates-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("en")).unwrap();
        std::fs::write(dir.join("en/welcome.subject.txt"), "Hi {{ name }}!").unwrap();
        std::fs::create_dir_all(dir.join("de")).unwrap();
        std::fs::write(dir.join("de/welcome.subject.txt"), "Hallo {{ name }}").unwrap();
        std::fs::write(
            dir.join("de/welcome.txt"),
            "Willkommen bei {{ shop_name }}.",
        )
        .unwrap();
        std::fs::write(
            dir.join("de/welcome.html"),
            "{% extends \"layout.html\" %}{% block body %}Willkommen{% endblock %}",
        )
        .unwrap();
        let t = Templates::new(Some(dir.clone()), "en");
        let ctx = context();
        let en = t.render(Kind::Welcome, Some("en"), &ctx).unwrap();
        assert_eq!(en.subject, "Hi Ana <Ana>!");
        assert!(
            en.html.unwrap().contains("Loom &amp; Co"),
            "the built-in HTML part stays"
        );
        let de = t.render(Kind::Welcome, Some("de"), &ctx).unwrap();
        assert_eq!(
            (de.locale.as_str(), de.subject.as_str()),
            ("de", "Hallo Ana <Ana>")
        );
        assert!(de.html.unwrap().contains("Willkommen"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
