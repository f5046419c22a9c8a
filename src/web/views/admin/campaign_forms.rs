//! The admin pages around a campaign's content and its send: the composer (new and edit, with
//! the preview beside the text), the review before sending, the questions before cancel and
//! delete, the refusal of a move the campaign's state does not allow, and the campaign
//! page's controls. Render only.

use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, i18n::number, layout, status, t, tf, tn};
use crate::{
    domain::{
        Action, Campaign, CampaignId, CampaignLayout, CampaignStatus, LegalBasis, Locale,
        MailingList,
    },
    services::campaigns::{Audience, CampaignCounts},
};

/// The values typed into the compose form.
#[derive(Debug, Default, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ComposeFormView<'a> {
    /// The internal name.
    pub name: &'a str,
    pub subject: &'a str,
    pub body_markdown: &'a str,
    /// The slugs of the lists ticked.
    pub lists: &'a [String],
    /// The sender (empty: `mail.from`).
    pub from: &'a str,
    /// Where replies go (empty: the list's address, else `mail.reply_to`).
    pub reply_to: &'a str,
    /// `standard` or `letter` (empty: `standard`).
    pub layout: &'a str,
    /// The versions in each language: (language, subject, body), empty when there is none.
    pub versions: &'a [(Locale, &'a str, &'a str)],
    /// The chosen segment's id (empty: none).
    pub segment: &'a str,
    /// The segments to choose from: (id, name).
    pub segments: &'a [(String, String)],
    /// Whether "Publish in the public archive" is ticked.
    pub archive: bool,
}

/// The fields of the composer in the order they appear: the first with an error gets focus.
const FIELD_ORDER: [&str; 12] = [
    "name",
    "subject",
    "from",
    "reply_to",
    "layout",
    "list",
    "segment",
    "body_markdown",
    "subject_en",
    "body_en",
    "subject_de",
    "body_de",
];

/// The composer's field names of `locale`'s version: (`subject_LANG`, `body_LANG`).
pub fn version_fields(locale: Locale) -> (&'static str, &'static str) {
    match locale {
        Locale::En => ("subject_en", "body_en"),
        Locale::De => ("subject_de", "body_de"),
        other => operator_version_fields(other),
    }
}

/// The field names of an operator's language, made once per language: errors are keyed by
/// `&'static str`, and the registered languages are few and fixed at start, so leaking
/// them is bounded.
fn operator_version_fields(locale: Locale) -> (&'static str, &'static str) {
    static MADE: std::sync::Mutex<Vec<(Locale, &'static str, &'static str)>> =
        std::sync::Mutex::new(Vec::new());
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, subject, body)) = made.iter().find(|(l, _, _)| *l == locale) {
        return (subject, body);
    }
    let leak = |name: String| -> &'static str { Box::leak(name.into_boxed_str()) };
    let subject = leak(format!("subject_{}", locale.as_str()));
    let body = leak(format!("body_{}", locale.as_str()));
    made.push((locale, subject, body));
    (subject, body)
}

/// A language by its own name.
fn language_name(locale: Locale) -> &'static str {
    super::auth::language_name(locale)
}

/// A layout's name and what it looks like, in the page's language.
pub fn layout_words(layout: CampaignLayout) -> &'static str {
    match layout {
        CampaignLayout::Standard => t("Newsletter: the text in a column on a grey background"),
        CampaignLayout::Letter => t("Letter: the text alone on white, as a person writes"),
    }
}

/// Whether a campaign is published in the public archive, in the page's language.
pub fn archive_words(archive: bool) -> &'static str {
    match archive {
        true => t("Published once sent"),
        false => t("Not published"),
    }
}

/// The composer: `editing` names the campaign being changed (`None`: a new one). Only
/// consent-based lists that are not archived are offered; every field's error is shown beside
/// it, and the first invalid field has the focus.
pub fn compose_page(
    ctx: &Ctx,
    all: &[MailingList],
    form: &ComposeFormView,
    errors: &Errors,
    editing: Option<CampaignId>,
    default_from: &str,
) -> Markup {
    let first = FIELD_ORDER.into_iter().find(|f| errors.contains_key(f));
    let at = |name: &'static str| FieldAt {
        name,
        error: errors.get(name),
        focus: first == Some(name),
    };
    let (title, action) = match editing {
        Some(id) => (t("Edit campaign"), format!("/admin/campaigns/{id}/edit")),
        None => (t("New campaign"), "/admin/campaigns".to_owned()),
    };
    let offered = all
        .iter()
        .filter(|l| l.archived_at.is_none() && l.def.legal_basis == LegalBasis::Consent);
    layout(
        ctx,
        title,
        html! {
            @if let Some(id) = editing { p { a href={ "/admin/campaigns/" (id) } { (t("← back to the campaign")) } } }
            @if !errors.is_empty() { p.error role="alert" { (t("The campaign was not saved. Please correct the fields marked below.")) } }
            div.composer {
                form.card.compose-text method="post" action=(action) {
                    (csrf_field(&ctx.csrf))
                    (input(&at("name"), t("Internal name (only you see it)"), "text", form.name))
                    (input(&at("subject"), t("Subject"), "text", form.subject))
                    (input(&at("from"), &tf("From (empty: {address})", &[("address", &default_from)]), "text", form.from))
                    (input(&at("reply_to"), t("Replies go to (any address, e.g. a helpdesk; empty: the list's, else mail.reply_to)"), "email", form.reply_to))
                    @let look = at("layout");
                    @let chosen = CampaignLayout::parse(form.layout).unwrap_or_default();
                    label for="layout" { (t("Layout")) }
                    select #layout name="layout" aria-invalid=[look.error.map(|_| "true")] autofocus[look.focus] {
                        @for layout in CampaignLayout::ALL {
                            option value=(layout.as_str()) selected[layout == chosen] { (layout_words(layout)) }
                        }
                    }
                    @if let Some(err) = look.error { p.field-error { (err) } }
                    p.muted { (t("Each layout is a template per language; change them under Templates (campaign.html, campaign_letter.html).")) }
                    label.check {
                        input #archive type="checkbox" name="archive" value="yes" checked[form.archive];
                        " " (t("Publish in the public archive"))
                    }
                    p.muted { (t("Once sent, it appears under /archive for its public lists, with placeholders instead of each person's name, address and links.")) }
                    fieldset.lists.invalid[at("list").error.is_some()] {
                        legend { (t("Lists (only lists people consented to)")) }
                        @for (i, l) in offered.enumerate() {
                            @let slug = l.def.slug.as_str();
                            label.check {
                                input type="checkbox" name="list" value=(slug)
                                    autofocus[i == 0 && at("list").focus]
                                    checked[form.lists.iter().any(|s| s == slug)];
                                " " (l.def.name)
                            }
                        }
                        @if let Some(err) = at("list").error { p.field-error { (err) } }
                    }
                    @let seg = at("segment");
                    label for="segment" { (t("Segment (optional)")) }
                    select #segment name="segment" aria-invalid=[seg.error.map(|_| "true")] autofocus[seg.focus] {
                        option value="" selected[form.segment.is_empty()] { (t("Everyone on the lists")) }
                        @for (id, name) in form.segments {
                            option value=(id) selected[form.segment == id] { (name) }
                        }
                    }
                    @if let Some(err) = seg.error { p.field-error { (err) } }
                    p.muted { (t("Only the lists' members the segment selects get the campaign. Segments are made under Segments.")) }
                    @let body = at("body_markdown");
                    label for="body_markdown" {
                        (around(t("Body (Markdown; variables such as {example})"), "example", html! { code { "{{ subscriber.name }}" } }))
                    }
                    textarea id="body_markdown" name="body_markdown" aria-invalid=[body.error.map(|_| "true")] autofocus[body.focus] { (form.body_markdown) }
                    @if let Some(err) = body.error { p.field-error { (err) } }
                    p.muted { (t("Everyone gets this text, unless their language has a version of its own below.")) }
                    @for &(locale, subject, text) in form.versions {
                        @let (subject_field, body_field) = version_fields(locale);
                        @let (s, b) = (at(subject_field), at(body_field));
                        details.version open[!subject.is_empty() || !text.is_empty() || s.error.is_some() || b.error.is_some()] {
                            summary { (tf("Version in {language} (optional)", &[("language", &language_name(locale))])) }
                            (input(&s, t("Subject"), "text", subject))
                            label for=(body_field) { (t("Text (Markdown)")) }
                            textarea id=(body_field) name=(body_field) aria-invalid=[b.error.map(|_| "true")] autofocus[b.focus] { (text) }
                            @if let Some(err) = b.error { p.field-error { (err) } }
                            p { button.secondary type="submit" formaction={ "/admin/campaigns/preview-draft?locale=" (locale.as_str()) } formtarget="preview" {
                                (tf("Preview the version in {language}", &[("language", &language_name(locale))])) } }
                        }
                    }
                    p {
                        button type="submit" { (t("Save draft")) } " "
                        button.secondary type="submit" formaction="/admin/campaigns/preview-draft" formtarget="preview" { (t("Preview")) }
                    }
                    p.muted { (t("Preview shows what is typed, with sample values, without saving it.")) }
                }
                div.compose-preview {
                    @match editing {
                        Some(id) => { iframe.preview sandbox="" name="preview" src={ "/admin/campaigns/" (id) "/preview" } title=(t("Preview of the e-mail")) {} }
                        None => { iframe.preview sandbox="" name="preview" src="/admin/campaigns/preview-draft" title=(t("Preview of the e-mail")) {} }
                    }
                }
            }
        },
    )
}

/// A field of the composer: its name, its error and whether it has the focus.
struct FieldAt<'a> {
    name: &'static str,
    error: Option<&'a String>,
    focus: bool,
}

/// A labelled input with its error in place, the typed value kept.
fn input(f: &FieldAt, label: &str, kind: &str, value: &str) -> Markup {
    html! {
        label for=(f.name) { (label) }
        input id=(f.name) name=(f.name) type=(kind) value=(value)
            aria-invalid=[f.error.map(|_| "true")] autofocus[f.focus];
        @if let Some(e) = f.error { p.field-error { (e) } }
    }
}

/// The empty preview frame of a campaign not written yet.
pub fn nothing_to_preview() -> Markup {
    let said = html! { p { (t("Write the message, then press “Preview” to see it here.")) } };
    super::preview_document(None, &said.into_string())
}

/// What the review before sending shows.
#[derive(Debug, Clone)]
pub struct ReviewView<'a> {
    /// The campaign.
    pub campaign: &'a Campaign,
    /// Who it reaches now.
    pub audience: &'a Audience,
    /// The target lists' names by slug.
    pub list_names: Vec<(String, String)>,
    /// The From it is sent with.
    pub from: &'a str,
    /// Where replies go, in words.
    pub reply_to: String,
    /// A refusal of the last try, shown beside its form (`send_at` or `to`).
    pub error: Option<(&'static str, String)>,
    /// The time typed, kept after an error.
    pub send_at: &'a str,
}

/// `/admin/campaigns/{id}/review`: audience, lists, From, Reply-To, subject, the preview, a
/// test send and the one confirmation that schedules it.
pub fn review_page(ctx: &Ctx, v: &ReviewView) -> Markup {
    let c = v.campaign;
    let base = format!("/admin/campaigns/{}", c.id);
    let err = |k: &str| v.error.as_ref().filter(|(f, _)| *f == k).map(|(_, e)| e);
    let people = |n: u64| tn("{n} person", "{n} people", n);
    let total = html! { strong #audience-total { (people(v.audience.total)) } };
    layout(
        ctx,
        &tf("Review “{name}”", &[("name", &c.def.name)]),
        html! {
            p { a href=(base) { (t("← back to the campaign")) } }
            div.card.review {
                p.audience {
                    (around(t("It goes to {people} now (confirmed, active, not suppressed; each person once)."), "people", total))
                }
                @if v.audience.total == 0 { p.error role="alert" { (t("Nobody would receive it: its lists have no confirmed subscribers who may be mailed.")) } }
                table.figures {
                    tr { th { (t("List")) } th.num { (t("People")) } }
                    @for (slug, n) in &v.audience.by_list {
                        @let name = v.list_names.iter().find(|(s, _)| s == slug.as_str()).map_or(slug.as_str(), |(_, n)| n.as_str());
                        tr { td { (name) " " code { (slug.as_str()) } } td.num data-list=(slug.as_str()) { (number(*n)) } }
                    }
                }
                dl.facts {
                    dt { (t("From")) } dd { (v.from) }
                    dt { (t("Replies go to")) } dd { (v.reply_to) }
                    dt { (t("Layout")) } dd #layout { (layout_words(c.def.layout)) }
                    dt { (t("Segment")) } dd #segment { (v.audience.segment.as_deref().unwrap_or(t("Everyone on the lists"))) }
                    dt { (t("Public archive")) } dd #archive { (archive_words(c.def.archive)) }
                    dt { (t("Subject")) } dd { (c.def.subject) }
                    dt { (t("Status")) } dd { (status(c.status.as_str()))
                        @if let Some(at) = c.send_at { " " (tf("for {time}", &[("time", &ctx.time(at))])) } }
                }
            }
            @if ctx.may(Action::ManageCampaigns) {
                div.card {
                    h2 { (t("Send a test")) }
                    (test_form(ctx, &base, "review", err("to")))
                }
                form.card.confirm method="post" action={ (base) "/schedule" } {
                    (csrf_field(&ctx.csrf))
                    input type="hidden" name="page" value="review";
                    h2 { (t("Send it")) }
                    fieldset {
                        legend { (t("When")) }
                        label.check { input type="radio" name="when" value="now" checked[v.send_at.is_empty()]; " " (t("Now")) }
                        label.check {
                            input type="radio" name="when" value="at" checked[!v.send_at.is_empty()];
                            " " (tf("At this time ({zone}):", &[("zone", &ctx.zone_name())]))
                        }
                        input #send_at type="datetime-local" name="send_at" value=(v.send_at)
                            aria-label=(tf("Send at ({zone})", &[("zone", &ctx.zone_name())])) aria-invalid=[err("send_at").map(|_| "true")] autofocus[err("send_at").is_some()];
                        @if let Some(e) = err("send_at") { p.field-error { (e) } }
                    }
                    p { button type="submit" { (tf("Confirm: send to {people}", &[("people", &people(v.audience.total))])) } }
                    p.muted { (t("Until it starts you can edit it (it returns to draft), pause or cancel it.")) }
                }
            }
            h2 { (t("Preview")) }
            iframe.preview sandbox="" src={ (base) "/preview" } title=(t("Preview of the e-mail")) {}
        },
    )
}

/// The test-send form; `page` is where the answer comes back (`review` or the campaign page).
fn test_form(ctx: &Ctx, base: &str, page: &str, error: Option<&String>) -> Markup {
    html! {
        form method="post" action={ (base) "/test" } {
            (csrf_field(&ctx.csrf))
            input type="hidden" name="page" value=(page);
            label for="to" { (t("Send a test to (up to 10 addresses, separated by commas)")) }
            input #to type="text" name="to" inputmode="email" autocomplete="email"
                aria-invalid=[error.map(|_| "true")] autofocus[error.is_some()];
            @if let Some(e) = error { p.field-error { (e) } }
            " " button.secondary type="submit" { (t("Send test")) }
        }
    }
}

/// The controls of a campaign's page, each only in the states where it works.
/// A notice's mailing is written, sent, copied and deleted through its notice: here it may
/// only be paused, resumed or cancelled.
pub fn moves(ctx: &Ctx, c: &Campaign, n: &CampaignCounts, is_notice: bool) -> Markup {
    if !ctx.may(Action::ManageCampaigns) {
        return html! {};
    }
    let base = format!("/admin/campaigns/{}", c.id);
    let s = c.status;
    let editable = !is_notice && matches!(s, CampaignStatus::Draft | CampaignStatus::Scheduled);
    let pausable = matches!(s, CampaignStatus::Scheduled | CampaignStatus::Sending);
    let cancellable = matches!(
        s,
        CampaignStatus::Scheduled | CampaignStatus::Sending | CampaignStatus::Paused
    );
    let deletable = !is_notice
        && (s == CampaignStatus::Draft || (s == CampaignStatus::Cancelled && n.sent == 0));
    let post = |verb: &str, label: &str| {
        html! {
            form.inline method="post" action={ (base) "/" (verb) } {
                (csrf_field(&ctx.csrf))
                button.secondary type="submit" { (label) }
            } " "
        }
    };
    html! {
        div.card.moves {
            // A div, not a p: a form may not stand inside a paragraph.
            div.actions {
                @if editable {
                    a.button href={ (base) "/review" } { @if s == CampaignStatus::Draft { (t("Review and send")) } @else { (t("Review and reschedule")) } } " "
                    a.button.secondary href={ (base) "/edit" } { (t("Edit")) } " "
                }
                @if pausable { (post("pause", t("Pause"))) }
                @if s == CampaignStatus::Paused { (post("resume", t("Resume"))) }
                @if cancellable { a.button.secondary href={ (base) "/cancel" } { (t("Cancel…")) } " " }
                @if !is_notice { (post("duplicate", t("Duplicate"))) }
                @if !is_notice && !editable {
                    @if c.def.archive { (post("unpublish", t("Take off the public archive"))) }
                    @else { (post("publish", t("Publish in the public archive"))) }
                }
                @if deletable { a.button.secondary href={ (base) "/delete" } { (t("Delete…")) } }
            }
            @if is_notice {
                p.muted {
                    (around(
                        t("This is the mailing of a product notice: write, send and copy it on {notices}."),
                        "notices",
                        html! { a href="/admin/notices" { (t("Notices")) } },
                    ))
                }
            }
            @if s == CampaignStatus::Scheduled && !is_notice { p.muted { (t("Editing a scheduled campaign returns it to draft: review and schedule it again after.")) } }
            (test_form(ctx, &base, "campaign", None))
        }
    }
}

/// Who a draft would reach now, in place of delivery figures it does not have yet.
pub fn audience_card(a: &Audience) -> Markup {
    let words = match a.total {
        1 => t("Would go to {n} person now"),
        _ => t("Would go to {n} people now"),
    };
    let total = html! { strong #audience-total { (number(a.total)) } };
    html! {
        p.audience { (around(words, "n", total))
            @if !a.by_list.is_empty() {
                " (" @for (i, (slug, n)) in a.by_list.iter().enumerate() { @if i > 0 { ", " } (slug.as_str()) ": " (number(*n)) } ")"
            } "."
            @if let Some(segment) = &a.segment { " " (tf("Only the members the segment “{segment}” selects.", &[("segment", segment)])) } }
    }
}

/// `text` with the placeholder `{name}` replaced by `inner` (markup, such as a link or an
/// emphasised figure), so a translation can put it where its language wants it.
pub(super) fn around(text: &str, name: &str, inner: Markup) -> Markup {
    let placeholder = format!("{{{name}}}");
    match text.split_once(&placeholder) {
        Some((before, after)) => html! { (before) (inner) (after) },
        None => html! { (text) " " (inner) },
    }
}

/// A question before a move that cannot be undone (`cancel`, `delete`).
#[derive(Debug, Clone, Copy)]
pub struct ConfirmView<'a> {
    /// The campaign.
    pub campaign: &'a Campaign,
    /// The move's path segment.
    pub verb: &'a str,
    /// The question, as the page title.
    pub title: &'a str,
    /// What happens.
    pub text: &'a str,
    /// The button's words.
    pub button: &'a str,
}

/// `GET /admin/campaigns/{id}/{cancel|delete}`: asks first; the button POSTs.
pub fn confirm_page(ctx: &Ctx, v: &ConfirmView) -> Markup {
    let base = format!("/admin/campaigns/{}", v.campaign.id);
    layout(
        ctx,
        v.title,
        html! {
            div.card {
                p { strong { (v.campaign.def.name) } " " (status(v.campaign.status.as_str())) }
                p { (v.text) }
                form method="post" action={ (base) "/" (v.verb) } {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { (v.button) }
                    " " a href=(base) { (t("No, go back")) }
                }
            }
        },
    )
}

/// A move the campaign's state does not allow (409): why, and, with `offer_copy`, the way
/// to send its content again.
pub fn refused_page(ctx: &Ctx, c: &Campaign, why: &str, offer_copy: bool) -> Markup {
    let base = format!("/admin/campaigns/{}", c.id);
    layout(
        ctx,
        &c.def.name,
        html! {
            p.error role="alert" { (why) }
            p { (around(t("It is {status}."), "status", status(c.status.as_str())))
                @if offer_copy { " " (t("To send its content again, duplicate it and edit the copy.")) } }
            @if offer_copy && ctx.may(Action::ManageCampaigns) {
                form.inline method="post" action={ (base) "/duplicate" } {
                    (csrf_field(&ctx.csrf))
                    button type="submit" { (t("Duplicate")) }
                }
                " "
            }
            a href=(base) { (t("Back to the campaign")) }
        },
    )
}
