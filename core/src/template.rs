//! Message templates: handlebars with media-friendly context and helpers,
//! escaped for each service's markup.
//!
//! A plugin ships built-in [`DefaultTemplates`] (event name or `default` →
//! handlebars source) and builds one [`Templates`] per instance from them and
//! the instance's `templates` overrides. Everything that can be wrong with a
//! template is found when the instance is built, not when the first event
//! arrives at 3 a.m.: every template is compiled, override keys and `@files`
//! are checked, and every template is rendered against [`sample_events`] of
//! every known kind.
//!
//! # Choosing a template
//!
//! For an event named `playback.started`, the first that exists wins:
//!
//! 1. the instance's override `playback.started`,
//! 2. the instance's override `default`,
//! 3. the plugin's built-in `playback.started`,
//! 4. the plugin's built-in `default` (every plugin has one).
//!
//! An override is an inline template, or `@relative/path.hbs` for a file
//! under the templates directory ([`PluginConfig::templates_dir`], which the
//! host sets to `templates/` next to the config file).
//!
//! # Escaping: safe by default
//!
//! Handlebars' HTML escaping is replaced by the plugin's [`Markup`]: every
//! `{{value}}` is escaped for the service's dialect (Telegram HTML, Slack
//! mrkdwn, Discord markdown, …), so a title such as `<b>Tom & Jerry</b>` or
//! `*_Hi_*` is shown as written and never breaks the message. The template's
//! own text is markup and is left alone. `{{{value}}}` writes a value
//! unescaped, for the rare template that knows the value holds markup.
//!
//! # Context
//!
//! See [`context`]: the event's `id`, `event`, `timestamp` and `source`;
//! every `data` field both at the top level and under `data`; and derived
//! values (`user`, `episode_code`, `display_title`, `duration`, `position`,
//! `change`).
//!
//! # Helpers
//!
//! | helper | example | result |
//! | --- | --- | --- |
//! | `duration` | `{{duration duration_seconds}}` | `42 min`, `1 h 05 min`, `45 s` |
//! | `episode_code` | `{{episode_code season episode}}` | `S01E02` |
//! | `truncate` | `{{truncate overview 200}}` | at most 200 characters, `…` included |
//! | `escape_markdown` | `{{escape_markdown title}}` | Discord markdown escaped |
//! | `escape_mrkdwn` | `{{escape_mrkdwn title}}` | Slack mrkdwn escaped |
//! | `escape_html` | `{{escape_html title}}` | Telegram HTML escaped |
//! | `escape_markdown_v2` | `{{escape_markdown_v2 title}}` | Telegram MarkdownV2 escaped |
//!
//! `{{duration}}` and `{{episode_code}}` without arguments are the derived
//! context values of the same name.
//!
//! An escape helper of the plugin's own dialect escapes once (it is the
//! same as `{{title}}`); one of another dialect is escaped again for the
//! plugin's dialect, so it can never inject markup. Missing values render
//! empty (rendering is not strict); a helper called with the wrong number or
//! type of arguments is an error at config check.
//!
//! The same functions are plain Rust functions here ([`duration`],
//! [`episode_code`], [`truncate`], [`escape_markdown`], …) for plugins.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use chrono::{DateTime, Utc};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, RenderContext,
    RenderError, RenderErrorReason, ScopedJson,
};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::event::{Event, EventKind, KnownKind};
use crate::registry::PluginConfig;

/// A plugin's built-in templates: `(event name or "default", handlebars
/// source)`. Must contain a `default` entry.
pub type DefaultTemplates = &'static [(&'static str, &'static str)];

/// The override key that applies to every event without its own template.
pub const DEFAULT_KEY: &str = "default";

/// A service's markup dialect: how values are escaped into templates and
/// how over-long text is cut without breaking the markup.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Markup {
    /// Plain text: nothing is escaped.
    Plain,
    /// Discord markdown: [`escape_markdown`].
    Markdown,
    /// Slack mrkdwn: [`escape_mrkdwn`].
    Mrkdwn,
    /// Telegram HTML: [`escape_html`].
    Html,
    /// Telegram MarkdownV2: [`escape_markdown_v2`].
    MarkdownV2,
}

impl Markup {
    /// Escapes `text` so that it shows as written in this dialect.
    pub fn escape(self, text: &str) -> String {
        match self {
            Markup::Plain => text.to_owned(),
            Markup::Markdown => escape_markdown(text),
            Markup::Mrkdwn => escape_mrkdwn(text),
            Markup::Html => escape_html(text),
            Markup::MarkdownV2 => escape_markdown_v2(text),
        }
    }
}

impl Markup {
    /// Cuts `text` (already in this markup) to at most `max` UTF-16 code
    /// units ([`utf16_len`]), ending with `…`, without breaking the markup:
    /// never inside an escape (`\*`), an entity (`&amp;`), a tag or a
    /// link target, and with the tags (HTML) or entities (MarkdownV2) open
    /// at the cut closed again, so Telegram still parses the result.
    ///
    /// Text within the limit is returned as is.
    pub fn fit(self, text: &str, max: usize) -> String {
        if utf16_len(text) <= max {
            return text.to_owned();
        }
        let atoms = match self {
            Markup::Plain => plain_atoms(text),
            Markup::Markdown => markdown_atoms(text),
            Markup::Mrkdwn => mrkdwn_atoms(text),
            Markup::Html => html_atoms(text),
            Markup::MarkdownV2 => markdown_v2_atoms(text),
        };
        let ellipsis = "…";
        let mut stack: Vec<String> = Vec::new();
        let mut used = 0;
        let mut best: Option<(usize, String)> = None;
        for atom in atoms {
            used += utf16_len(&text[atom.start..atom.end]);
            match atom.effect {
                Effect::None => {}
                Effect::Push(closer) => stack.push(closer),
                Effect::Pop => {
                    stack.pop();
                }
            }
            if used > max {
                break;
            }
            let closers: String = stack.iter().rev().map(String::as_str).collect();
            if used + utf16_len(ellipsis) + utf16_len(&closers) <= max {
                best = Some((atom.end, closers));
            }
        }
        let (end, closers) = best.unwrap_or_default();
        let out = format!("{}{ellipsis}{closers}", &text[..end]);
        if utf16_len(&out) <= max {
            out
        } else if max >= utf16_len(ellipsis) {
            ellipsis.to_owned()
        } else {
            String::new()
        }
    }
}

/// A piece of marked-up text that must not be split, and what it does to
/// the stack of open entities.
struct Atom {
    start: usize,
    end: usize,
    effect: Effect,
}

enum Effect {
    None,
    /// Opens an entity closed by this text.
    Push(String),
    /// Closes the innermost open entity.
    Pop,
}

fn char_atom(text: &str, start: usize) -> Atom {
    let len = text[start..].chars().next().map_or(1, char::len_utf8);
    Atom {
        start,
        end: start + len,
        effect: Effect::None,
    }
}

fn plain_atoms(text: &str) -> Vec<Atom> {
    text.char_indices()
        .map(|(i, c)| Atom {
            start: i,
            end: i + c.len_utf8(),
            effect: Effect::None,
        })
        .collect()
}

/// A backslash escape and the character it escapes, as one atom.
fn escape_atom(text: &str, start: usize) -> Atom {
    let next = text[start + 1..].chars().next().map_or(0, char::len_utf8);
    Atom {
        start,
        end: start + 1 + next,
        effect: Effect::None,
    }
}

fn markdown_atoms(text: &str) -> Vec<Atom> {
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let atom = if text[i..].starts_with('\\') {
            escape_atom(text, i)
        } else {
            char_atom(text, i)
        };
        i = atom.end;
        atoms.push(atom);
    }
    atoms
}

/// `&name;` or `&#123;` at `start`, if there is one.
fn entity_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start + 1..];
    let semi = rest.find(';')?;
    let name = &rest[..semi];
    (!name.is_empty() && semi <= 10 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'#'))
        .then_some(start + 1 + semi + 1)
}

fn mrkdwn_atoms(text: &str) -> Vec<Atom> {
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let end = if text[i..].starts_with('&') {
            entity_end(text, i)
        } else if text[i..].starts_with('<') {
            text[i..].find('>').map(|j| i + j + 1)
        } else {
            None
        };
        let atom = match end {
            Some(end) => Atom {
                start: i,
                end,
                effect: Effect::None,
            },
            None => char_atom(text, i),
        };
        i = atom.end;
        atoms.push(atom);
    }
    atoms
}

fn html_atoms(text: &str) -> Vec<Atom> {
    let mut atoms = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let atom = if rest.starts_with('&') {
            match entity_end(text, i) {
                Some(end) => Atom {
                    start: i,
                    end,
                    effect: Effect::None,
                },
                None => char_atom(text, i),
            }
        } else if rest.starts_with('<') {
            match rest.find('>') {
                Some(j) => {
                    let tag = &rest[..=j];
                    let effect = if tag.starts_with("</") {
                        Effect::Pop
                    } else if tag.ends_with("/>") {
                        Effect::None
                    } else {
                        let name: String = tag[1..]
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                            .collect();
                        Effect::Push(format!("</{name}>"))
                    };
                    Atom {
                        start: i,
                        end: i + j + 1,
                        effect,
                    }
                }
                None => char_atom(text, i),
            }
        } else {
            char_atom(text, i)
        };
        i = atom.end;
        atoms.push(atom);
    }
    atoms
}

/// Where the `](url)` closing a link opened at `open` ends, and where it
/// starts.
fn markdown_v2_link_close(text: &str, open: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b']' if bytes.get(i + 1) == Some(&b'(') => {
                let mut j = i + 2;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 2,
                        b')' => return Some((i, j + 1)),
                        _ => j += 1,
                    }
                }
                return None;
            }
            _ => i += 1,
        }
    }
    None
}

fn markdown_v2_atoms(text: &str) -> Vec<Atom> {
    const TOGGLES: [&str; 5] = ["__", "||", "*", "_", "~"];
    let mut atoms = Vec::new();
    // Open entities: their closing text, and for links where it starts.
    let mut open: Vec<(String, Option<usize>)> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let in_code = open
            .last()
            .is_some_and(|(closer, _)| closer == "`" || closer == "```");
        let atom = if rest.starts_with('\\') {
            escape_atom(text, i)
        } else if in_code {
            let closer = open.last().map(|(c, _)| c.clone()).unwrap_or_default();
            if rest.starts_with(closer.as_str()) {
                open.pop();
                Atom {
                    start: i,
                    end: i + closer.len(),
                    effect: Effect::Pop,
                }
            } else {
                char_atom(text, i)
            }
        } else if let Some((_, Some(close_at))) = open.last().filter(|(_, at)| *at == Some(i)) {
            let close_at = *close_at;
            let end = markdown_v2_link_end(text, close_at);
            open.pop();
            Atom {
                start: i,
                end,
                effect: Effect::Pop,
            }
        } else if rest.starts_with("```") || rest.starts_with('`') {
            let fence = if rest.starts_with("```") { "```" } else { "`" };
            open.push((fence.to_owned(), None));
            Atom {
                start: i,
                end: i + fence.len(),
                effect: Effect::Push(fence.to_owned()),
            }
        } else if rest.starts_with('[') {
            match markdown_v2_link_close(text, i) {
                Some((close_at, end)) => {
                    let closer = text[close_at..end].to_owned();
                    open.push((closer.clone(), Some(close_at)));
                    Atom {
                        start: i,
                        end: i + 1,
                        effect: Effect::Push(closer),
                    }
                }
                None => char_atom(text, i),
            }
        } else if let Some(toggle) = TOGGLES.iter().find(|t| rest.starts_with(**t)) {
            let closes = open
                .last()
                .is_some_and(|(c, at)| at.is_none() && c == toggle);
            let effect = if closes {
                open.pop();
                Effect::Pop
            } else {
                open.push(((*toggle).to_owned(), None));
                Effect::Push((*toggle).to_owned())
            };
            Atom {
                start: i,
                end: i + toggle.len(),
                effect,
            }
        } else {
            char_atom(text, i)
        };
        i = atom.end;
        atoms.push(atom);
    }
    atoms
}

fn markdown_v2_link_end(text: &str, close_at: usize) -> usize {
    markdown_v2_link_close(text, close_at.saturating_sub(1))
        .filter(|(at, _)| *at == close_at)
        .map_or(close_at + 1, |(_, end)| end)
}

/// Which template was chosen for an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateSource {
    /// The instance's override with this key.
    Override(String),
    /// The plugin's built-in template with this key.
    BuiltIn(&'static str),
}

impl TemplateSource {
    fn registry_name(&self) -> String {
        match self {
            TemplateSource::Override(key) => format!("override:{key}"),
            TemplateSource::BuiltIn(key) => format!("builtin:{key}"),
        }
    }
}

/// One plugin instance's compiled templates: the plugin's built-in ones and
/// the instance's overrides, escaped for one [`Markup`].
pub struct Templates {
    instance: String,
    markup: Markup,
    handlebars: Handlebars<'static>,
    overrides: BTreeMap<String, String>,
    builtin: DefaultTemplates,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("instance", &self.instance)
            .field("markup", &self.markup)
            .field("overrides", &self.overrides.keys().collect::<Vec<_>>())
            .field(
                "builtin",
                &self.builtin.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Templates {
    /// Compiles the plugin's `builtin` templates and `config`'s overrides for
    /// `markup`, and renders each against [`sample_events`].
    ///
    /// Errors name the instance and the template key: an override key that
    /// is neither an event name nor `default`, an `@file` that cannot be
    /// read (or leaves the templates directory), a template that does not
    /// compile, or one that fails to render a sample event (e.g. a helper
    /// called with the wrong arguments).
    pub fn new(
        config: &PluginConfig,
        builtin: DefaultTemplates,
        markup: Markup,
    ) -> Result<Templates> {
        let mut handlebars = new_handlebars(markup);
        if !builtin.iter().any(|(key, _)| *key == DEFAULT_KEY) {
            return Err(config.error("the plugin has no built-in `default` template"));
        }
        for (key, source) in builtin {
            handlebars
                .register_template_string(&TemplateSource::BuiltIn(key).registry_name(), source)
                .map_err(|e| config.error(format!("built-in template `{key}`: {e}")))?;
        }
        let mut overrides = BTreeMap::new();
        for (key, value) in &config.templates {
            if key != DEFAULT_KEY && EventKind::parse(key).is_err() {
                return Err(config.error(format!(
                    "templates.{key}: unknown key; expected an event name such as \
                     `playback.started`, or `default`"
                )));
            }
            let source = match value.strip_prefix('@') {
                Some(relative) => read_template_file(config, key, relative)?,
                None => value.clone(),
            };
            handlebars
                .register_template_string(
                    &TemplateSource::Override(key.clone()).registry_name(),
                    &source,
                )
                .map_err(|e| config.error(format!("templates.{key}: {e}")))?;
            overrides.insert(key.clone(), source);
        }
        let templates = Templates {
            instance: config.name.clone(),
            markup,
            handlebars,
            overrides,
            builtin,
        };
        templates.check_samples()?;
        Ok(templates)
    }

    /// Renders every template against every sample event it may be used for.
    fn check_samples(&self) -> Result<()> {
        let samples = sample_events();
        let sources = self
            .overrides
            .keys()
            .map(|k| TemplateSource::Override(k.clone()))
            .chain(self.builtin.iter().map(|(k, _)| TemplateSource::BuiltIn(k)));
        for source in sources {
            let key = match &source {
                TemplateSource::Override(key) => key.as_str(),
                TemplateSource::BuiltIn(key) => key,
            };
            let known = EventKind::parse(key).ok().and_then(|k| k.as_known());
            for event in &samples {
                // A template for a known kind only ever sees that kind.
                if known.is_some_and(|k| event.event.as_known() != Some(k)) {
                    continue;
                }
                self.handlebars
                    .render(&source.registry_name(), &context(event))
                    .map_err(|e| {
                        let what = match &source {
                            TemplateSource::Override(_) => format!("templates.{key}"),
                            TemplateSource::BuiltIn(_) => format!("built-in template `{key}`"),
                        };
                        Error::PluginConfig {
                            instance: self.instance.clone(),
                            message: format!(
                                "{what}: fails to render a sample `{}` event: {}",
                                event.event,
                                render_error_text(&e)
                            ),
                        }
                    })?;
            }
        }
        Ok(())
    }

    /// The markup values are escaped for.
    pub fn markup(&self) -> Markup {
        self.markup
    }

    /// Which template an event named `event` uses (see the module docs for
    /// the order).
    pub fn source_for(&self, event: &str) -> TemplateSource {
        if self.overrides.contains_key(event) {
            TemplateSource::Override(event.to_owned())
        } else if self.overrides.contains_key(DEFAULT_KEY) {
            TemplateSource::Override(DEFAULT_KEY.to_owned())
        } else {
            TemplateSource::BuiltIn(self.builtin_key(event))
        }
    }

    fn builtin_key(&self, event: &str) -> &'static str {
        self.builtin
            .iter()
            .map(|(k, _)| *k)
            .find(|k| *k == event)
            .unwrap_or(DEFAULT_KEY)
    }

    /// Renders the template chosen for `event`.
    ///
    /// Should an override fail on an event unlike the samples it was checked
    /// against, the failure is logged and the built-in template is used, so
    /// the notification still goes out.
    pub fn render(&self, event: &Event) -> Result<String> {
        let ctx = context(event);
        let source = self.source_for(event.event.as_str());
        match self.handlebars.render(&source.registry_name(), &ctx) {
            Ok(text) => Ok(text),
            Err(e) => {
                let TemplateSource::Override(key) = &source else {
                    return Err(Error::Format(format!(
                        "built-in template: {}",
                        render_error_text(&e)
                    )));
                };
                tracing::warn!(
                    instance = %self.instance,
                    template = %key,
                    event = %event.event,
                    error = %render_error_text(&e),
                    "template failed; using the built-in template"
                );
                let builtin = TemplateSource::BuiltIn(self.builtin_key(event.event.as_str()));
                self.handlebars
                    .render(&builtin.registry_name(), &ctx)
                    .map_err(|e| {
                        Error::Format(format!("built-in template: {}", render_error_text(&e)))
                    })
            }
        }
    }
}

fn render_error_text(error: &RenderError) -> String {
    let mut text = error.reason().to_string();
    if let Some(line) = error.line_no {
        text.push_str(&format!(" (line {line}"));
        if let Some(column) = error.column_no {
            text.push_str(&format!(", column {column}"));
        }
        text.push(')');
    }
    text
}

fn read_template_file(config: &PluginConfig, key: &str, relative: &str) -> Result<String> {
    let Some(dir) = &config.templates_dir else {
        return Err(config.error(format!(
            "templates.{key}: `@{relative}` names a file, but there is no templates directory"
        )));
    };
    let path = Path::new(relative);
    let inside = !relative.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !inside {
        return Err(config.error(format!(
            "templates.{key}: `@{relative}` must be a relative path inside the templates directory"
        )));
    }
    let full = dir.join(path);
    std::fs::read_to_string(&full).map_err(|e| {
        config.error(format!(
            "templates.{key}: cannot read `{}`: {e}",
            full.display()
        ))
    })
}

fn new_handlebars(markup: Markup) -> Handlebars<'static> {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(false);
    handlebars.register_escape_fn(move |text: &str| markup.escape(text));
    handlebars.register_helper("duration", Box::new(ValueHelper::DURATION));
    handlebars.register_helper("episode_code", Box::new(ValueHelper::EPISODE_CODE));
    handlebars.register_helper("truncate", Box::new(ValueHelper::TRUNCATE));
    for (name, dialect) in [
        ("escape_markdown", Markup::Markdown),
        ("escape_mrkdwn", Markup::Mrkdwn),
        ("escape_html", Markup::Html),
        ("escape_markdown_v2", Markup::MarkdownV2),
    ] {
        handlebars.register_helper(
            name,
            Box::new(EscapeHelper {
                name,
                dialect,
                output: markup,
            }),
        );
    }
    handlebars
}

/// A helper that computes a value from its arguments; its result is escaped
/// like any `{{value}}`.
struct ValueHelper {
    name: &'static str,
    arity: usize,
    /// Whether `{{name}}` without arguments is the context value of the
    /// same name (`{{duration}}` is the derived `duration`).
    context_value: bool,
    compute: fn(&[&Value]) -> std::result::Result<Value, String>,
}

impl ValueHelper {
    const DURATION: ValueHelper = ValueHelper {
        name: "duration",
        arity: 1,
        context_value: true,
        compute: |args| {
            Ok(match seconds_arg(args[0], "seconds")? {
                Some(seconds) => Value::String(duration(seconds)),
                None => Value::Null,
            })
        },
    };
    const EPISODE_CODE: ValueHelper = ValueHelper {
        name: "episode_code",
        arity: 2,
        context_value: true,
        compute: |args| {
            let season = seconds_arg(args[0], "season")?;
            let episode = seconds_arg(args[1], "episode")?;
            Ok(match (season, episode) {
                (Some(s), Some(e)) => Value::String(episode_code(s, e)),
                _ => Value::Null,
            })
        },
    };
    const TRUNCATE: ValueHelper = ValueHelper {
        name: "truncate",
        arity: 2,
        context_value: false,
        compute: |args| {
            let max = match seconds_arg(args[1], "the maximum length")? {
                Some(max) => usize::try_from(max).unwrap_or(usize::MAX),
                None => return Err("the maximum length is missing".into()),
            };
            Ok(match args[0] {
                Value::Null => Value::Null,
                value => Value::String(truncate(&value.render(), max)),
            })
        },
    };
}

/// A non-negative integer argument (a number or a numeric string); `None`
/// when the value is missing.
fn seconds_arg(value: &Value, what: &str) -> std::result::Result<Option<u64>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| format!("{what} must be a non-negative number, got {n}")),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("{what} must be a non-negative number, got \"{s}\"")),
        other => Err(format!("{what} must be a number, got {other}")),
    }
}

impl HelperDef for ValueHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> std::result::Result<ScopedJson<'rc>, RenderError> {
        if self.context_value && h.params().is_empty() && h.hash().is_empty() {
            let value = ctx.data().get(self.name).cloned().unwrap_or(Value::Null);
            return Ok(ScopedJson::Derived(value));
        }
        let args = helper_args(h, self.name, self.arity)?;
        (self.compute)(&args)
            .map(ScopedJson::Derived)
            .map_err(|message| {
                RenderErrorReason::Other(format!("`{}`: {message}", self.name)).into()
            })
    }
}

fn helper_args<'a>(
    h: &'a Helper<'_>,
    name: &str,
    arity: usize,
) -> std::result::Result<Vec<&'a Value>, RenderError> {
    if h.params().len() != arity || !h.hash().is_empty() {
        return Err(RenderErrorReason::Other(format!(
            "`{name}` takes {arity} argument{}, got {}",
            if arity == 1 { "" } else { "s" },
            h.params().len() + h.hash().len()
        ))
        .into());
    }
    Ok(h.params().iter().map(|p| p.value()).collect())
}

/// `escape_*`: escapes for its dialect, then for the plugin's dialect unless
/// they are the same (or the output is raw), so it never injects markup.
struct EscapeHelper {
    name: &'static str,
    dialect: Markup,
    output: Markup,
}

impl HelperDef for EscapeHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        _: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let args = helper_args(h, self.name, 1)?;
        let escaped = self.dialect.escape(&args[0].render());
        let text = if self.dialect == self.output || rc.is_disable_escape() {
            escaped
        } else {
            r.get_escape_fn()(&escaped)
        };
        out.write(&text)?;
        Ok(())
    }
}

/// The values a template sees for `event`:
///
/// - `id`, `event` (the name), `timestamp` (RFC 3339), `source` (if known);
/// - every `data` field, at the top level (`{{title}}`) and under `data`
///   (`{{data.title}}`); the event fields above win over data fields of the
///   same name, which stay reachable under `data`;
/// - derived values, set only when they can be computed (and then winning
///   over data fields of the same name):
///   - `user`: `user_name`, else `user_id`;
///   - `episode_code`: `S02E05` when `season` and `episode` are present;
///   - `display_title`: `The Expanse S02E05 'Home'` for an episode,
///     `Dune (2021)` for a movie, else the title or series alone;
///   - `duration`: `duration_seconds` as `1 h 05 min`;
///   - `position`: `position_seconds` likewise;
///   - `change`: `added`, `removed` or `updated` from a `library.updated`
///     event's `change_type`.
pub fn context(event: &Event) -> Value {
    let data = &event.data;
    let mut ctx: Map<String, Value> = data.clone();
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let number = |key: &str| data.get(key).and_then(Value::as_u64);

    if let Some(user) = text("user_name").or_else(|| text("user_id")) {
        ctx.insert("user".into(), user.into());
    }
    let code = match (number("season"), number("episode")) {
        (Some(season), Some(episode)) => Some(episode_code(season, episode)),
        _ => None,
    };
    if let Some(code) = &code {
        ctx.insert("episode_code".into(), code.as_str().into());
    }
    if let Some(title) = display_title(
        text("series"),
        code.as_deref(),
        text("title"),
        data.get("year").and_then(Value::as_i64),
    ) {
        ctx.insert("display_title".into(), title.into());
    }
    if let Some(seconds) = number("duration_seconds") {
        ctx.insert("duration".into(), duration(seconds).into());
    }
    if let Some(seconds) = number("position_seconds") {
        ctx.insert("position".into(), duration(seconds).into());
    }
    if event.event.as_known() == Some(KnownKind::LibraryUpdated) {
        let change = match text("change_type") {
            Some("item_added") => Some("added"),
            Some("item_removed") => Some("removed"),
            Some("metadata_updated") => Some("updated"),
            _ => None,
        };
        if let Some(change) = change {
            ctx.insert("change".into(), change.into());
        }
    }

    ctx.insert("id".into(), event.id.clone().into());
    ctx.insert("event".into(), event.event.as_str().into());
    ctx.insert(
        "timestamp".into(),
        event
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            .into(),
    );
    match &event.source {
        Some(source) => ctx.insert("source".into(), source.clone().into()),
        None => ctx.remove("source"),
    };
    ctx.insert("data".into(), Value::Object(data.clone()));
    Value::Object(ctx)
}

/// `The Expanse S02E05 'Home'`, `The Expanse 'Home'`, `Dune (2021)`,
/// `Dune`, `The Expanse`, or `None` without a title or series.
pub fn display_title(
    series: Option<&str>,
    episode_code: Option<&str>,
    title: Option<&str>,
    year: Option<i64>,
) -> Option<String> {
    match (series, title) {
        (Some(series), title) => {
            let mut out = series.to_owned();
            if let Some(code) = episode_code {
                out.push(' ');
                out.push_str(code);
            }
            if let Some(title) = title {
                out.push_str(&format!(" '{title}'"));
            }
            Some(out)
        }
        (None, Some(title)) => Some(match year {
            Some(year) => format!("{title} ({year})"),
            None => title.to_owned(),
        }),
        (None, None) => None,
    }
}

/// Seconds as people say them: `45 s`, `42 min`, `1 h 05 min`.
pub fn duration(seconds: u64) -> String {
    if seconds < 60 {
        format!("{seconds} s")
    } else if seconds < 3600 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} h {:02} min", seconds / 3600, seconds % 3600 / 60)
    }
}

/// `S01E02` (at least two digits each).
pub fn episode_code(season: u64, episode: u64) -> String {
    format!("S{season:02}E{episode:02}")
}

/// At most `max` characters (Unicode scalar values): longer text is cut at a
/// character boundary and ends with `…`, which counts toward `max`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Length in UTF-16 code units, as JavaScript and Telegram count; never less
/// than the number of characters, so limits checked with it are safe for
/// services that count characters too.
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Like [`truncate`], measuring in UTF-16 code units ([`utf16_len`]).
pub fn truncate_utf16(text: &str, max: usize) -> String {
    if utf16_len(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > max - 1 {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

fn escape_with(text: &str, special: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Discord markdown: a backslash before each of ``\ * _ ~ ` | < > # - [ ]``
/// so that titles neither format nor form links, headings, lists, quotes or
/// spoilers. (Mentions are disarmed by the plugin's `allowed_mentions`.)
pub fn escape_markdown(text: &str) -> String {
    escape_with(text, |c| {
        matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '<' | '>' | '#' | '-' | '[' | ']'
        )
    })
}

/// Slack mrkdwn: `&` → `&amp;`, `<` → `&lt;`, `>` → `&gt;` (what Slack asks
/// of every app; it has no escape for `*` or `_`).
pub fn escape_mrkdwn(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Telegram HTML: `&`, `<`, `>` and `"` as entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// The characters Telegram MarkdownV2 reserves outside entities.
pub const MARKDOWN_V2_RESERVED: &str = "_*[]()~`>#+-=|{}.!\\";

/// Telegram MarkdownV2: a backslash before every reserved character
/// ([`MARKDOWN_V2_RESERVED`], the backslash included).
pub fn escape_markdown_v2(text: &str) -> String {
    escape_with(text, |c| MARKDOWN_V2_RESERVED.contains(c))
}

/// Sample events for checking templates and for tests: for every known
/// kind, one with full enrichment (an episode for playback, a movie
/// elsewhere) and one with only the required fields; then a custom
/// `app.deployed` event. Ids and timestamps are fixed.
pub fn sample_events() -> Vec<Event> {
    let timestamp: DateTime<Utc> = DateTime::from_timestamp(1_769_860_800, 0).unwrap_or_default();
    let episode = json!({
        "series": "The Expanse", "season": 2, "episode": 5, "title": "Home", "year": 2017,
        "overview": "Miller and Holden race to stop the Eros asteroid.",
        "user_name": "Alice", "device_name": "Living Room TV", "client": "Jellyfin Web",
        "server_name": "Home Server", "image_url": "https://images.example/expanse-s02e05.jpg",
        "media_type": "episode", "user_id": "u1", "device_id": "d1",
    });
    let movie = json!({
        "title": "Dune", "year": 2021,
        "overview": "Paul Atreides travels to the most dangerous planet in the universe.",
        "user_name": "Alice", "server_name": "Home Server",
        "image_url": "https://images.example/dune.jpg", "media_type": "movie", "user_id": "u1",
    });
    let with = |base: &Value, extra: Value| {
        let mut map = base.as_object().cloned().unwrap_or_default();
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
        map
    };
    let full = |kind: KnownKind| -> Map<String, Value> {
        match kind {
            KnownKind::PlaybackStarted | KnownKind::PlaybackPaused | KnownKind::PlaybackResumed => {
                with(
                    &episode,
                    json!({"media_item_id": "m1", "position_seconds": 754}),
                )
            }
            KnownKind::PlaybackEnded => with(
                &episode,
                json!({"media_item_id": "m1", "duration_seconds": 2520, "completed": true}),
            ),
            KnownKind::LibraryUpdated => with(
                &movie,
                json!({"media_item_id": "m2", "change_type": "item_added", "library_id": "movies"}),
            ),
            KnownKind::MediaMarkedPlayed | KnownKind::MediaMarkedUnplayed => {
                with(&movie, json!({"media_item_id": "m2"}))
            }
            KnownKind::UserCreated => with(
                &json!({"server_name": "Home Server"}),
                json!({"user_id": "u2", "user_name": "Bob"}),
            ),
            KnownKind::SessionCreated => with(
                &json!({"user_name": "Alice", "device_name": "Phone", "client": "Findroid",
                        "server_name": "Home Server"}),
                json!({"session_id": "s1", "user_id": "u1", "device_id": "d2"}),
            ),
            KnownKind::WebhookTest => with(
                &json!({"server_name": "Home Server"}),
                json!({"message": "Test notification from Herald", "webhook_id": "w1"}),
            ),
        }
    };
    let minimal = |kind: KnownKind| -> Map<String, Value> {
        let value = match kind {
            KnownKind::PlaybackStarted
            | KnownKind::PlaybackPaused
            | KnownKind::PlaybackResumed
            | KnownKind::PlaybackEnded
            | KnownKind::MediaMarkedPlayed
            | KnownKind::MediaMarkedUnplayed => json!({"media_item_id": "m1"}),
            KnownKind::LibraryUpdated => {
                json!({"media_item_id": "m1", "change_type": "item_removed"})
            }
            KnownKind::UserCreated => json!({"user_id": "u2"}),
            KnownKind::SessionCreated => json!({"session_id": "s1"}),
            KnownKind::WebhookTest => json!({"message": "Test"}),
        };
        value.as_object().cloned().unwrap_or_default()
    };
    let mut events = Vec::new();
    for (i, kind) in KnownKind::ALL.into_iter().enumerate() {
        for (variant, data) in [("full", full(kind)), ("minimal", minimal(kind))] {
            events.push(Event {
                id: format!("evt_sample_{i:02}_{variant}"),
                event: EventKind::known(kind),
                timestamp,
                source: Some("jellyfin".into()),
                data,
            });
        }
    }
    if let Ok(kind) = EventKind::parse("app.deployed") {
        events.push(Event {
            id: "evt_sample_custom".into(),
            event: kind,
            timestamp,
            source: None,
            data: with(
                &json!({"message": "v1.2.3 is live", "version": "1.2.3"}),
                json!({}),
            ),
        });
    }
    events
}

/// Expands to the built-in [`DefaultTemplates`] of the media-server events
/// in one markup: the same sentences for every service, with the markup's
/// own emphasis around the values.
///
/// `bold` wraps the user (and `user.created`'s name and a custom event's
/// name), `em` the title, `item` the title of a library item, `parens`
/// the parentheses around a duration or client (MarkdownV2 must escape
/// them). Every piece is a string literal, so the result is a constant:
///
/// ```
/// use herald_core::template::DefaultTemplates;
///
/// const TEMPLATES: DefaultTemplates = herald_core::media_templates!(
///     bold: ("**", "**"),
///     em: ("*", "*"),
///     item: ("*", "*"),
///     parens: ("(", ")"),
/// );
/// assert_eq!(TEMPLATES[0].0, "playback.started");
/// ```
///
/// [`defaults::PLAIN`] is the plain-text instance.
#[macro_export]
macro_rules! media_templates {
    (
        bold: ($b0:literal, $b1:literal),
        em: ($e0:literal, $e1:literal),
        item: ($i0:literal, $i1:literal),
        parens: ($p0:literal, $p1:literal) $(,)?
    ) => {
        &[
            ("playback.started", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " started ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                "{{#if device_name}} on {{device_name}}{{/if}}")),
            ("playback.paused", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " paused ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                "{{#if device_name}} on {{device_name}}{{/if}}",
                "{{#if position}} at {{position}}{{/if}}")),
            ("playback.resumed", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " resumed ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                "{{#if device_name}} on {{device_name}}{{/if}}")),
            ("playback.ended", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " {{#if (eq completed false)}}stopped{{else}}finished{{/if}} ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                "{{#if duration}} ", $p0, "{{duration}}", $p1, "{{/if}}")),
            ("library.updated", concat!(
                "{{#if (eq change_type \"item_added\")}}New {{#if media_type}}{{media_type}}{{else}}item{{/if}} added: ",
                "{{#if display_title}}", $i0, "{{display_title}}", $i1, "{{else}}item {{media_item_id}}{{/if}}",
                "{{#if overview}}\n\n{{truncate overview 500}}{{/if}}",
                "{{else if (eq change_type \"item_removed\")}}Removed from the library: ",
                "{{#if display_title}}", $i0, "{{display_title}}", $i1, "{{else}}item {{media_item_id}}{{/if}}",
                "{{else}}Metadata updated: ",
                "{{#if display_title}}", $i0, "{{display_title}}", $i1, "{{else}}item {{media_item_id}}{{/if}}",
                "{{/if}}")),
            ("media.marked_played", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " marked ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                " as played")),
            ("media.marked_unplayed", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " marked ",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                " as unplayed")),
            ("user.created", concat!("New user: ", $b0, "{{user}}", $b1)),
            ("session.created", concat!(
                "{{#if user}}", $b0, "{{user}}", $b1, "{{else}}Someone{{/if}}",
                " started a session",
                "{{#if device_name}} on {{device_name}}{{/if}}",
                "{{#if client}} ", $p0, "{{client}}", $p1, "{{/if}}")),
            ("webhook.test", "{{message}}"),
            ("default", concat!(
                $b0, "{{event}}", $b1, "{{#if message}}: {{message}}{{/if}}",
                "{{#if display_title}}\n",
                "{{#if display_title}}", $e0, "{{display_title}}", $e1, "{{else}}an item{{/if}}",
                "{{/if}}")),
        ]
    };
}

pub mod defaults {
    //! What the plugins' built-in texts share: the per-kind sentences
    //! ([`media_templates!`](crate::media_templates), [`PLAIN`]) and the
    //! short headline of an event ([`label`]). A plugin uses them and keeps
    //! only its own differences.

    use super::DefaultTemplates;
    use crate::event::{Event, KnownKind};

    /// The built-in templates in plain text (no emphasis), as ntfy,
    /// Pushover and Apprise use them; values are escaped for the
    /// instance's markup.
    pub const PLAIN: DefaultTemplates = crate::media_templates!(
        bold: ("", ""),
        em: ("", ""),
        item: ("", ""),
        parens: ("(", ")"),
    );

    /// The short headline of an event: `Playback started`, `New in the
    /// library`, …, or the event name for custom events.
    pub fn label(event: &Event) -> String {
        let Some(known) = event.event.as_known() else {
            return event.event.to_string();
        };
        match known {
            KnownKind::PlaybackStarted => "Playback started",
            KnownKind::PlaybackPaused => "Playback paused",
            KnownKind::PlaybackResumed => "Playback resumed",
            KnownKind::PlaybackEnded => "Playback ended",
            KnownKind::LibraryUpdated => match event.data_str("change_type") {
                Some("item_added") => "New in the library",
                Some("item_removed") => "Removed from the library",
                _ => "Library updated",
            },
            KnownKind::MediaMarkedPlayed => "Marked as played",
            KnownKind::MediaMarkedUnplayed => "Marked as unplayed",
            KnownKind::UserCreated => "New user",
            KnownKind::SessionCreated => "New session",
            KnownKind::WebhookTest => "Test notification",
        }
        .to_owned()
    }
}

/// A URL with `{key}` placeholders, filled with URL-encoded event values
/// (`https://host/item?id={media_item_id}`): the tap-through links of the
/// push services.
#[derive(Clone, Debug, PartialEq)]
pub struct UrlTemplate(Vec<UrlPart>);

#[derive(Clone, Debug, PartialEq)]
enum UrlPart {
    Literal(String),
    Placeholder(String),
}

impl UrlTemplate {
    /// Parses `https://host/path?id={media_item_id}`. A placeholder is
    /// `event`, `id`, `source` or a data key (lower case, digits, `_`).
    pub fn parse(template: &str) -> std::result::Result<UrlTemplate, String> {
        if !(template.starts_with("http://") || template.starts_with("https://")) {
            return Err("must be an http:// or https:// URL".into());
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            parts.push(UrlPart::Literal(rest[..open].to_owned()));
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{template}`"))?;
            let name = &after[..close];
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!("invalid placeholder `{{{name}}}`"));
            }
            parts.push(UrlPart::Placeholder(name.to_owned()));
            rest = &after[close + 1..];
        }
        parts.push(UrlPart::Literal(rest.to_owned()));
        Ok(UrlTemplate(parts))
    }

    /// The URL for `event`, or `None` when a placeholder has no value.
    pub fn render(&self, event: &Event) -> Option<String> {
        let mut url = String::new();
        for part in &self.0 {
            match part {
                UrlPart::Literal(text) => url.push_str(text),
                UrlPart::Placeholder(name) => {
                    let value = match name.as_str() {
                        "event" => event.event.as_str().to_owned(),
                        "id" => event.id.clone(),
                        "source" => event.source.clone()?,
                        key => match event.data.get(key)? {
                            Value::String(s) if !s.is_empty() => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            _ => return None,
                        },
                    };
                    percent_encode_into(&mut url, &value);
                }
            }
        }
        Some(url)
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

impl Markup {
    /// Cuts marked-up `text` to at most `max` bytes at a character
    /// boundary (ending with `…`), without breaking the markup's escapes:
    /// [`fit`](Self::fit) for services whose limits are in bytes.
    pub fn fit_bytes(self, text: &str, max: usize) -> String {
        if text.len() <= max {
            return text.to_owned();
        }
        // `fit` counts UTF-16 units, and a unit is at most 3 bytes of
        // UTF-8: shrink its limit until the bytes fit.
        let mut units = max;
        loop {
            let out = self.fit(text, units);
            if out.len() <= max || units == 0 {
                return out;
            }
            units = units.saturating_sub((out.len() - max).div_ceil(3).max(1));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(templates: Value) -> PluginConfig {
        let mut config: PluginConfig = serde_json::from_value(json!({
            "kind": "test", "name": "inst", "templates": templates,
        }))
        .unwrap();
        config.templates_dir = None;
        config
    }

    const BUILTIN: DefaultTemplates = &[
        ("default", "builtin default {{event}}"),
        ("playback.started", "builtin started {{display_title}}"),
    ];

    fn event(name: &str, data: Value) -> Event {
        Event {
            id: "evt_1".into(),
            event: EventKind::parse(name).unwrap(),
            timestamp: DateTime::from_timestamp(0, 0).unwrap(),
            source: None,
            data: data.as_object().cloned().unwrap(),
        }
    }

    fn render(templates: &Templates, name: &str, data: Value) -> String {
        templates.render(&event(name, data)).unwrap()
    }

    fn render_one(markup: Markup, source: &str, data: Value) -> String {
        let templates =
            Templates::new(&config(json!({"default": source})), BUILTIN, markup).unwrap();
        render(&templates, "app.custom", data)
    }

    #[test]
    fn duration_formats() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(60), "1 min");
        assert_eq!(duration(42 * 60 + 30), "42 min");
        assert_eq!(duration(3600 + 5 * 60 + 59), "1 h 05 min");
        assert_eq!(duration(2 * 3600), "2 h 00 min");
        assert_eq!(duration(100 * 3600 + 60), "100 h 01 min");
    }

    #[test]
    fn episode_code_pads() {
        assert_eq!(episode_code(1, 2), "S01E02");
        assert_eq!(episode_code(12, 105), "S12E105");
        assert_eq!(episode_code(0, 0), "S00E00");
    }

    #[test]
    fn truncate_counts_the_ellipsis_and_respects_chars() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello", 4), "hel…");
        assert_eq!(truncate("hello", 1), "…");
        assert_eq!(truncate("hello", 0), "");
        assert_eq!(truncate("", 0), "");
        assert_eq!(truncate("日本語のタイトル", 4), "日本語…");
        assert_eq!(truncate("🎬🎬🎬🎬", 3), "🎬🎬…");
        // A flag is two scalar values; cutting between them is still valid UTF-8.
        assert_eq!(truncate("🇯🇵🇯🇵", 2), "🇯…");
        for max in 0..10 {
            assert!(truncate("日本語のタイトル🎬", max).chars().count() <= max);
        }
    }

    #[test]
    fn truncate_utf16_counts_surrogates() {
        assert_eq!(utf16_len("a🎬日"), 4);
        assert_eq!(truncate_utf16("🎬🎬🎬", 4), "🎬…");
        assert_eq!(truncate_utf16("🎬🎬🎬", 6), "🎬🎬🎬");
        assert_eq!(truncate_utf16("日本語", 2), "日…");
        for max in 0..10 {
            assert!(utf16_len(&truncate_utf16("a🎬日本語🎬🎬", max)) <= max);
        }
    }

    #[test]
    fn escape_markdown_disarms_discord_markdown() {
        assert_eq!(
            escape_markdown(r"*a* _b_ ~c~ `d` ||e|| > # - [f](g) <@1> \"),
            r"\*a\* \_b\_ \~c\~ \`d\` \|\|e\|\| \> \# \- \[f\](g) \<@1\> \\"
        );
        assert_eq!(escape_markdown("日本語 🎬"), "日本語 🎬");
    }

    #[test]
    fn escape_mrkdwn_escapes_the_three_control_characters() {
        assert_eq!(
            escape_mrkdwn("Tom & Jerry <!here> >"),
            "Tom &amp; Jerry &lt;!here&gt; &gt;"
        );
        assert_eq!(escape_mrkdwn("*bold* \"q\""), "*bold* \"q\"");
    }

    #[test]
    fn escape_html_escapes_telegram_entities() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; 'Jerry'&lt;/b&gt;"
        );
    }

    #[test]
    fn escape_markdown_v2_escapes_every_reserved_character() {
        let reserved = [
            '_', '*', '[', ']', '(', ')', '~', '`', '>', '#', '+', '-', '=', '|', '{', '}', '.',
            '!', '\\',
        ];
        assert_eq!(reserved.len(), MARKDOWN_V2_RESERVED.chars().count());
        for c in reserved {
            assert_eq!(escape_markdown_v2(&c.to_string()), format!("\\{c}"), "{c}");
        }
        assert_eq!(
            escape_markdown_v2("Dune (2021). Part 2!"),
            r"Dune \(2021\)\. Part 2\!"
        );
        assert_eq!(escape_markdown_v2("日本語 🎬 abc"), "日本語 🎬 abc");
    }

    #[test]
    fn fit_keeps_short_text_and_cuts_plain_text() {
        assert_eq!(Markup::Plain.fit("short", 5), "short");
        assert_eq!(Markup::Plain.fit("longer", 5), "long…");
        assert_eq!(Markup::Plain.fit("🎬🎬🎬", 5), "🎬🎬…");
        assert_eq!(Markup::Plain.fit("abc", 0), "");
        assert_eq!(Markup::Plain.fit("abc", 1), "…");
    }

    #[test]
    fn fit_never_splits_escapes_entities_or_tags() {
        assert_eq!(Markup::Markdown.fit(r"ab\*cd", 4), "ab…");
        assert_eq!(Markup::Mrkdwn.fit("a &amp; b", 6), "a …");
        assert_eq!(Markup::Mrkdwn.fit("a <https://x.y|link> b", 10), "a …");
        assert_eq!(Markup::Html.fit("x &amp; y", 5), "x …");
        assert_eq!(Markup::MarkdownV2.fit(r"a\.b\.c", 4), r"a\.…");
    }

    #[test]
    fn fit_closes_open_html_tags() {
        let text =
            r#"<b>Alice</b> started <a href="https://x.y/?a=1&amp;b=2"><i>The Expanse</i></a>"#;
        for max in 0..utf16_len(text) + 2 {
            let out = Markup::Html.fit(text, max);
            assert!(utf16_len(&out) <= max, "{max}: {out}");
            assert_eq!(
                out.matches("<b>").count(),
                out.matches("</b>").count(),
                "{out}"
            );
            assert_eq!(
                out.matches("<a ").count(),
                out.matches("</a>").count(),
                "{out}"
            );
            assert_eq!(
                out.matches("<i>").count(),
                out.matches("</i>").count(),
                "{out}"
            );
        }
        assert_eq!(
            Markup::Html.fit("<b>Alice Smith</b>", 15),
            "<b>Alice S…</b>"
        );
    }

    #[test]
    fn fit_closes_open_markdown_v2_entities() {
        assert_eq!(
            Markup::MarkdownV2.fit("*Alice Smith* x", 12),
            "*Alice Smi…*"
        );
        assert_eq!(
            Markup::MarkdownV2.fit("__under__ and ||spoiler||", 21),
            "__under__ and ||sp…||"
        );
        assert_eq!(
            Markup::MarkdownV2.fit("[The Expanse](https://x.y/a\\)b) more", 25),
            "[The …](https://x.y/a\\)b)"
        );
        assert_eq!(Markup::MarkdownV2.fit("`co*de` tail", 6), "`co*…`");
        let text = "*bold _italic ~strike~_* [link](https://x) `code` ```\npre\n``` end";
        for max in 0..utf16_len(text) + 2 {
            let out = Markup::MarkdownV2.fit(text, max);
            assert!(utf16_len(&out) <= max, "{max}: {out}");
            assert_eq!(out.matches('*').count() % 2, 0, "{out}");
            assert_eq!(out.matches('`').count() % 2, 0, "{out}");
        }
    }

    #[test]
    fn lookup_order() {
        let overrides = json!({"playback.started": "o-started", "default": "o-default"});
        let t = Templates::new(&config(overrides), BUILTIN, Markup::Plain).unwrap();
        assert_eq!(
            render(&t, "playback.started", json!({"media_item_id": "m"})),
            "o-started"
        );
        assert_eq!(
            render(&t, "playback.paused", json!({"media_item_id": "m"})),
            "o-default"
        );

        let t = Templates::new(
            &config(json!({"playback.paused": "o-paused"})),
            BUILTIN,
            Markup::Plain,
        )
        .unwrap();
        assert_eq!(render(&t, "playback.paused", json!({})), "o-paused");
        assert_eq!(
            render(
                &t,
                "playback.started",
                json!({"title": "Dune", "year": 2021})
            ),
            "builtin started Dune (2021)"
        );
        assert_eq!(
            render(&t, "app.custom", json!({})),
            "builtin default app.custom"
        );
        assert_eq!(
            t.source_for("app.custom"),
            TemplateSource::BuiltIn("default")
        );
        assert_eq!(
            t.source_for("playback.paused"),
            TemplateSource::Override("playback.paused".into())
        );
    }

    #[test]
    fn unknown_override_keys_are_errors_naming_instance_and_key() {
        let err = Templates::new(
            &config(json!({"Playback Started": "x"})),
            BUILTIN,
            Markup::Plain,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("inst") && err.contains("templates.Playback Started"),
            "{err}"
        );
    }

    #[test]
    fn template_files_are_read_and_missing_ones_are_errors() {
        let dir = std::env::temp_dir().join(format!("herald-template-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/started.hbs"), "from file {{user}}").unwrap();
        let mut c = config(json!({"playback.started": "@sub/started.hbs"}));
        c.templates_dir = Some(dir.clone());
        let t = Templates::new(&c, BUILTIN, Markup::Plain).unwrap();
        assert_eq!(
            render(&t, "playback.started", json!({"user_id": "u1"})),
            "from file u1"
        );

        let mut c = config(json!({"default": "@missing.hbs"}));
        c.templates_dir = Some(dir.clone());
        let err = Templates::new(&c, BUILTIN, Markup::Plain)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("inst")
                && err.contains("templates.default")
                && err.contains("missing.hbs"),
            "{err}"
        );

        let mut c = config(json!({"default": "@../escape.hbs"}));
        c.templates_dir = Some(dir.clone());
        assert!(Templates::new(&c, BUILTIN, Markup::Plain).is_err());

        let c = config(json!({"default": "@sub/started.hbs"}));
        let err = Templates::new(&c, BUILTIN, Markup::Plain)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no templates directory"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn syntax_errors_and_bad_helper_calls_fail_at_build() {
        for bad in [
            "{{#if title}}unclosed",
            "{{truncate title}}",
            "{{truncate title \"many\"}}",
            "{{duration title}}",
            "{{episode_code season}}",
            "{{escape_html}}",
        ] {
            let err = Templates::new(&config(json!({"default": bad})), BUILTIN, Markup::Plain)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("inst") && err.contains("templates.default"),
                "{bad}: {err}"
            );
        }
        let err = Templates::new(
            &config(json!({})),
            &[("default", "{{truncate}}")],
            Markup::Plain,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("built-in template `default`"), "{err}");
        assert!(Templates::new(&config(json!({})), &[("x.y", "")], Markup::Plain).is_err());
    }

    #[test]
    fn missing_values_render_empty() {
        assert_eq!(
            render_one(Markup::Plain, "[{{title}}|{{duration duration_seconds}}|{{truncate overview 5}}|{{episode_code season episode}}]", json!({})),
            "[|||]"
        );
    }

    #[test]
    fn helpers_render() {
        assert_eq!(
            render_one(
                Markup::Plain,
                "{{duration}}|{{episode_code}}",
                json!({"duration_seconds": 61, "season": 1, "episode": 2})
            ),
            "1 min|S01E02"
        );
        assert_eq!(
            render_one(
                Markup::Plain,
                "{{duration d}} {{episode_code s e}} {{truncate t 4}}",
                json!({"d": 3900, "s": 2, "e": "5", "t": "日本語のタイトル"})
            ),
            "1 h 05 min S02E05 日本語…"
        );
    }

    #[test]
    fn values_are_escaped_for_the_markup_and_template_text_is_not() {
        let data = json!({"title": "<b>Tom & Jerry</b> *x*"});
        assert_eq!(
            render_one(Markup::Plain, "*{{title}}*", data.clone()),
            "*<b>Tom & Jerry</b> *x**"
        );
        assert_eq!(
            render_one(Markup::Html, "<b>{{title}}</b>", data.clone()),
            "<b>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; *x*</b>"
        );
        assert_eq!(
            render_one(Markup::Mrkdwn, "*{{title}}*", data.clone()),
            "*&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; *x**"
        );
        assert_eq!(
            render_one(Markup::MarkdownV2, "*{{title}}*", json!({"title": "a.b!"})),
            r"*a\.b\!*"
        );
        // Raw output on request.
        assert_eq!(
            render_one(Markup::Html, "{{{title}}}", data.clone()),
            "<b>Tom & Jerry</b> *x*"
        );
        // Helper results are escaped too.
        assert_eq!(
            render_one(
                Markup::Html,
                "{{truncate title 100}}",
                json!({"title": "a<b"})
            ),
            "a&lt;b"
        );
    }

    #[test]
    fn escape_helpers_escape_once_in_their_dialect_and_stay_safe_in_others() {
        let data = json!({"title": "a<b>&"});
        assert_eq!(
            render_one(Markup::Html, "{{escape_html title}}", data.clone()),
            "a&lt;b&gt;&amp;"
        );
        assert_eq!(
            render_one(Markup::Plain, "{{escape_html title}}", data.clone()),
            "a&lt;b&gt;&amp;"
        );
        assert_eq!(
            render_one(Markup::Html, "{{escape_markdown title}}", data.clone()),
            r"a\&lt;b\&gt;&amp;"
        );
        assert_eq!(
            render_one(
                Markup::Plain,
                "{{escape_markdown_v2 x}}",
                json!({"x": "1.5"})
            ),
            r"1\.5"
        );
        assert_eq!(
            render_one(Markup::Mrkdwn, "{{escape_mrkdwn title}}", data),
            "a&lt;b&gt;&amp;"
        );
    }

    #[test]
    fn context_has_event_data_and_derived_values() {
        let e = Event {
            source: Some("jellyfin".into()),
            ..event(
                "playback.ended",
                json!({"series": "The Expanse", "season": 2, "episode": 5, "title": "Home",
                       "user_id": "u1", "duration_seconds": 2520, "media_item_id": "m",
                       "id": "shadowed"}),
            )
        };
        let ctx = context(&e);
        assert_eq!(ctx["id"], "evt_1");
        assert_eq!(ctx["data"]["id"], "shadowed");
        assert_eq!(ctx["event"], "playback.ended");
        assert_eq!(ctx["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(ctx["source"], "jellyfin");
        assert_eq!(ctx["title"], "Home");
        assert_eq!(ctx["data"]["title"], "Home");
        assert_eq!(ctx["user"], "u1");
        assert_eq!(ctx["episode_code"], "S02E05");
        assert_eq!(ctx["display_title"], "The Expanse S02E05 'Home'");
        assert_eq!(ctx["duration"], "42 min");

        let ctx = context(&event(
            "library.updated",
            json!({"title": "Dune", "year": 2021, "user_name": "Alice", "user_id": "u1",
                   "change_type": "item_added"}),
        ));
        assert_eq!(ctx["display_title"], "Dune (2021)");
        assert_eq!(ctx["user"], "Alice");
        assert_eq!(ctx["change"], "added");
        assert!(ctx.get("episode_code").is_none());
    }

    #[test]
    fn samples_cover_every_known_kind_and_validate() {
        let samples = sample_events();
        for kind in KnownKind::ALL {
            assert_eq!(
                samples
                    .iter()
                    .filter(|e| e.event.as_known() == Some(kind))
                    .count(),
                2
            );
        }
        for event in &samples {
            event.validate().unwrap();
        }
    }

    #[test]
    fn a_failing_override_falls_back_to_the_builtin_template() {
        // Valid for the samples, but not for a duration given as text.
        let t = Templates::new(
            &config(json!({"default": "{{duration duration_seconds}}"})),
            BUILTIN,
            Markup::Plain,
        )
        .unwrap();
        assert_eq!(
            render(&t, "app.custom", json!({"duration_seconds": "long"})),
            "builtin default app.custom"
        );
    }

    #[test]
    fn url_templates_encode_values_and_need_every_placeholder() {
        let mut event = sample_events().remove(0);
        let t =
            UrlTemplate::parse("https://x.example/{media_item_id}?e={event}&t={title}").unwrap();
        event.data.insert("title".into(), json!("a b/ü"));
        assert_eq!(
            t.render(&event).as_deref(),
            Some("https://x.example/m1?e=playback.started&t=a%20b%2F%C3%BC")
        );
        event.data.remove("title");
        assert_eq!(t.render(&event), None);
        for bad in ["ftp://x", "https://x/{", "https://x/{Bad}", "https://x/{}"] {
            assert!(UrlTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fit_bytes_cuts_at_a_char_boundary() {
        let text = "é".repeat(100);
        let out = Markup::Plain.fit_bytes(&text, 51);
        assert!(out.len() <= 51 && out.ends_with('…'), "{out}");
        assert_eq!(Markup::Plain.fit_bytes("short", 51), "short");
        let out = Markup::Markdown.fit_bytes(&"\\*".repeat(100), 50);
        assert!(
            out.len() <= 50 && !out.trim_end_matches('…').ends_with('\\'),
            "{out}"
        );
    }
}
