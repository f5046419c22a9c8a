//! The words of public pages: built in for English and German, read from the operator's
//! `pages.toml` at start for a language added in `mail.templates_dir`.

use std::{
    path::Path,
    sync::{PoisonError, RwLock},
};

use crate::domain::Locale;

/// Declares a struct of page words with one `&'static str` per key (and, after `and`, fields
/// of other types with the `PagesFile` method that reads each), and the keys of its table in
/// a page-text file (the same names, so they cannot drift apart).
macro_rules! page_words {
    (
        $(#[$meta:meta])* $name:ident {
            $($(#[$fmeta:meta])* $field:ident,)+
        }
        $(and {
            $($(#[$smeta:meta])* $sfield:ident: $sty:ty = $taker:ident,)+
        })?
    ) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name {
            $($(#[$fmeta])* pub(crate) $field: &'static str,)+
            $($($(#[$smeta])* pub(crate) $sfield: $sty,)+)?
        }

        impl $name {
            /// The keys of its table in a page-text file (`pages.toml`).
            pub const KEYS: &[&str] = &[$(stringify!($field),)+ $($(stringify!($sfield),)+)?];

            /// The words of `file`'s table.
            fn from_file(file: &mut PagesFile) -> Result<Self, PagesError> {
                Ok(Self {
                    $($field: file.take(stringify!($field))?,)+
                    $($($sfield: file.$taker(stringify!($sfield))?,)+)?
                })
            }
        }
    };
}

page_words!(
    /// Every string a public page shows.
    Text {
        signup_title,
        email,
        name,
        name_optional,
        subscribe,
        privacy_notice,
        privacy_hint,
        check_inbox_title,
        check_inbox_body,
        confirm_title,
        confirm_body,
        confirm_button,
        confirmed_title,
        confirmed_body,
        cancelled_title,
        cancelled_body,
        unsubscribe_title,
        unsubscribe_body,
        unsubscribe_button,
        unsubscribed_title,
        unsubscribed_body,
        preferences_title,
        preferences_body,
        leave_selected,
        leave_all,
        no_subscriptions,
        status_pending,
        status_confirmed,
        status_unsubscribed,
        link_invalid_title,
        link_invalid_body,
        link_expired_title,
        link_expired_body,
        resend_button,
        resent_title,
        resent_body,
        not_found_title,
        not_found_body,
        bad_request_title,
        error_title,
        error_body,
        busy_title,
        busy_body,
        consent_missing,
        fix_errors,
        index_title,
        index_empty,
        add_title,
        add_body,
        add_button,
        add_none_chosen,
        consent_per_list,
        reason_question,
        reason_too_many,
        reason_not_relevant,
        reason_never_signed_up,
        reason_other,
        reason_comment,
    }
);

/// The words for `locale`: built in for English and German, from the operator's
/// `pages.toml` for a registered language (English until its file is registered).
pub fn text(locale: Locale) -> &'static Text {
    match locale {
        Locale::En => &EN,
        Locale::De => &DE,
        other => added(other).map_or(&EN, |words| &words.text),
    }
}

/// The words of the language `locale` the operator added, if it has them.
fn added(locale: Locale) -> Option<&'static PageWords> {
    EXTRA
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(l, _)| *l == locale)
        .map(|(_, words)| *words)
}

/// The words of the public pages in a language the operator added: a `pages.toml`.
#[derive(Debug)]
pub struct PageWords {
    /// The core pages (signup, confirm, unsubscribe, preferences, errors): the top-level keys.
    pub text: Text,
    /// The "manage my data" pages: the `[privacy]` table.
    pub privacy: PrivacyText,
    /// The public archive: the `[archive]` table.
    pub archive: ArchiveText,
}

/// The words of the registered languages beyond English and German.
// Process-wide like the language registry itself (`Locale::register`): filled once at start.
static EXTRA: RwLock<Vec<(Locale, &'static PageWords)>> = RwLock::new(Vec::new());

/// A page-text file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PagesError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("{path}: {source}")]
    Syntax {
        /// The file.
        path: String,
        /// Where and why.
        source: Box<toml::de::Error>,
    },
    /// A key is missing, not a string, or unknown.
    #[error("{path}: {problem}")]
    Key {
        /// The file.
        path: String,
        /// Which key, and what is wrong with it.
        problem: String,
    },
}

/// A parsed table of a page-text file whose keys are taken one by one.
struct PagesFile {
    path: String,
    /// `archive.` for the `[archive]` table: how its keys are named in errors.
    prefix: String,
    table: toml::Table,
}

impl PagesFile {
    /// The table `name` (such as `archive`), taken out of this one.
    fn table(&mut self, name: &str) -> Result<PagesFile, PagesError> {
        let full = format!("{}{name}", self.prefix);
        let table = match self.table.remove(name) {
            Some(toml::Value::Table(table)) => table,
            Some(_) => return Err(self.problem(format!("{full} must be a table ([{full}])"))),
            None => return Err(self.problem(format!("the table [{full}] is missing"))),
        };
        Ok(PagesFile {
            path: self.path.clone(),
            prefix: format!("{full}."),
            table,
        })
    }

    /// The list of `N` texts at `key`, leaked like `take`'s.
    fn take_list<const N: usize>(&mut self, key: &str) -> Result<[&'static str; N], PagesError> {
        let texts: Vec<&'static str> = match self.table.remove(key) {
            Some(toml::Value::Array(items)) => items
                .into_iter()
                .filter_map(|item| match item {
                    toml::Value::String(text) => Some(&*Box::leak(text.into_boxed_str())),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        texts.try_into().map_err(|_| {
            self.problem(format!(
                "key \"{}{key}\" must be a list of {N} texts",
                self.prefix
            ))
        })
    }

    /// The table at `key` as (stable name, words) pairs, leaked like `take`'s.
    fn take_words(
        &mut self,
        key: &str,
    ) -> Result<&'static [(&'static str, &'static str)], PagesError> {
        let mut table = self.table(key)?;
        let names: Vec<String> = table.table.keys().cloned().collect();
        let mut pairs = Vec::with_capacity(names.len());
        for name in names {
            let words = table.take(&name)?;
            pairs.push((&*Box::leak(name.into_boxed_str()), words));
        }
        Ok(Box::leak(pairs.into_boxed_slice()))
    }

    /// Every key has been taken: an unknown one (a typo, say) is refused.
    fn finish(self) -> Result<(), PagesError> {
        match self.table.keys().next() {
            Some(unknown) => Err(self.problem(format!("unknown key \"{}{unknown}\"", self.prefix))),
            None => Ok(()),
        }
    }

    fn problem(&self, problem: String) -> PagesError {
        PagesError::Key {
            path: self.path.clone(),
            problem,
        }
    }

    /// The text of `key`, leaked: page words live as long as the process, and a file is
    /// loaded once per language at start.
    fn take(&mut self, key: &str) -> Result<&'static str, PagesError> {
        let problem = match self.table.remove(key) {
            Some(toml::Value::String(text)) => return Ok(Box::leak(text.into_boxed_str())),
            Some(_) => format!("key \"{}{key}\" must be a string", self.prefix),
            None => format!("key \"{}{key}\" is missing", self.prefix),
        };
        Err(self.problem(problem))
    }
}

/// Reads the words of the public pages from `path`, a `pages.toml`: one string per
/// `Text::KEYS` entry, and the tables `[privacy]` (`PrivacyText::KEYS`, with a word for every
/// consent action and message name the English has) and `[archive]` (`ArchiveText::KEYS`);
/// nothing else.
///
/// # Errors
/// An unreadable or malformed file, or a key missing, not a string or unknown.
pub fn load_pages(path: &Path) -> Result<PageWords, PagesError> {
    let shown = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| PagesError::Read {
        path: shown.clone(),
        source,
    })?;
    let table: toml::Table = toml::from_str(&source).map_err(|e| PagesError::Syntax {
        path: shown.clone(),
        source: Box::new(e),
    })?;
    let mut file = PagesFile {
        path: shown,
        prefix: String::new(),
        table,
    };
    let text = Text::from_file(&mut file)?;
    let mut privacy_table = file.table("privacy")?;
    let privacy = PrivacyText::from_file(&mut privacy_table)?;
    privacy_table.finish()?;
    same_names(&file, "actions", privacy.actions, PRIVACY_EN.actions)?;
    same_names(&file, "messages", privacy.messages, PRIVACY_EN.messages)?;
    let mut archive_table = file.table("archive")?;
    let archive = ArchiveText::from_file(&mut archive_table)?;
    archive_table.finish()?;
    file.finish()?;
    Ok(PageWords {
        text,
        privacy,
        archive,
    })
}

/// Checks that the table `[privacy.<table>]` has a word for every name the English one has,
/// and no other.
fn same_names(
    file: &PagesFile,
    table: &str,
    words: &[(&str, &str)],
    english: &[(&str, &str)],
) -> Result<(), PagesError> {
    let has = |list: &[(&str, &str)], name: &str| list.iter().any(|(n, _)| *n == name);
    if let Some((missing, _)) = english.iter().find(|(name, _)| !has(words, name)) {
        return Err(file.problem(format!("key \"privacy.{table}.{missing}\" is missing")));
    }
    if let Some((unknown, _)) = words.iter().find(|(name, _)| !has(english, name)) {
        return Err(file.problem(format!("unknown key \"privacy.{table}.{unknown}\"")));
    }
    Ok(())
}

/// Makes `words` the page words of `locale`; a second call for one language replaces the
/// first (the later file wins). English and German keep their built-in words.
pub fn register_pages(locale: Locale, words: PageWords) {
    if locale.is_built_in() {
        return;
    }
    // Leaked: page words live as long as the process, and are loaded once per language.
    let words: &'static PageWords = Box::leak(Box::new(words));
    let mut extra = EXTRA.write().unwrap_or_else(PoisonError::into_inner);
    match extra.iter_mut().find(|(l, _)| *l == locale) {
        Some(entry) => entry.1 = words,
        None => extra.push((locale, words)),
    }
}

static EN: Text = Text {
    signup_title: "Subscribe",
    email: "E-mail address",
    name: "Name",
    name_optional: "(optional)",
    subscribe: "Subscribe",
    privacy_notice: "Privacy notice",
    privacy_hint: "We use your address only to send what you subscribe to. Details are in our",
    check_inbox_title: "Please check your inbox",
    check_inbox_body: "If the address can receive our e-mails, we have sent a link to confirm your subscription. Nothing will be sent to you until you confirm.",
    confirm_title: "Confirm your subscription",
    confirm_body: "Press the button to confirm that you want to receive",
    confirm_button: "Yes, subscribe me",
    confirmed_title: "You are subscribed",
    confirmed_body: "Thank you for confirming. You are now subscribed to",
    cancelled_title: "This request was cancelled",
    cancelled_body: "This subscription request was cancelled. If you want to subscribe, please sign up again.",
    unsubscribe_title: "Unsubscribe",
    unsubscribe_body: "Press the button to stop receiving",
    unsubscribe_button: "Unsubscribe",
    unsubscribed_title: "You are unsubscribed",
    unsubscribed_body: "You will receive no more e-mails from",
    preferences_title: "Your subscriptions",
    preferences_body: "Choose the subscriptions you want to end.",
    leave_selected: "Unsubscribe from selected",
    leave_all: "Unsubscribe from everything",
    no_subscriptions: "There are no subscriptions for this address.",
    status_pending: "awaiting confirmation",
    status_confirmed: "subscribed",
    status_unsubscribed: "unsubscribed",
    link_invalid_title: "This link does not work",
    link_invalid_body: "The link is incomplete or not valid. Please use the link from the most recent e-mail, copied in full.",
    link_expired_title: "This link has expired",
    link_expired_body: "Confirmation links are valid for a limited time. We can send you a fresh one.",
    resend_button: "Send me a new link",
    resent_title: "A new link is on its way",
    resent_body: "If the request is still open, we have sent a new confirmation link. Please check your inbox.",
    not_found_title: "Page not found",
    not_found_body: "There is nothing here.",
    bad_request_title: "Something is wrong with this request",
    error_title: "Something went wrong",
    error_body: "Please try again in a moment.",
    busy_title: "Busy right now",
    busy_body: "Nothing was changed. Please try again in a moment.",
    consent_missing: "Please tick the box to give your consent.",
    fix_errors: "Please correct the marked fields.",
    index_title: "Our newsletters",
    index_empty: "There are no newsletters to sign up for yet.",
    add_title: "Add newsletters",
    add_body: "Tick each newsletter you want to receive. We send a link to confirm; nothing is sent until you confirm.",
    add_button: "Subscribe to the ticked ones",
    add_none_chosen: "Please tick the newsletters you want to receive.",
    consent_per_list: "Please tick the consent of each newsletter you want to receive.",
    reason_question: "Would you tell us why? (optional)",
    reason_too_many: "Too many e-mails",
    reason_not_relevant: "Not relevant to me",
    reason_never_signed_up: "I don't remember signing up",
    reason_other: "Something else",
    reason_comment: "Anything you want to add (optional)",
};

static DE: Text = Text {
    signup_title: "Anmelden",
    email: "E-Mail-Adresse",
    name: "Name",
    name_optional: "(freiwillig)",
    subscribe: "Anmelden",
    privacy_notice: "Datenschutzhinweise",
    privacy_hint: "Wir verwenden Ihre Adresse nur für den Versand dessen, was Sie bestellen. Einzelheiten finden Sie in unseren",
    check_inbox_title: "Bitte prüfen Sie Ihr Postfach",
    check_inbox_body: "Sofern die Adresse unsere E-Mails empfangen kann, haben wir Ihnen einen Link zur Bestätigung Ihrer Anmeldung geschickt. Bis zu Ihrer Bestätigung senden wir Ihnen nichts.",
    confirm_title: "Anmeldung bestätigen",
    confirm_body: "Bitte bestätigen Sie mit der Schaltfläche, dass Sie Folgendes erhalten möchten:",
    confirm_button: "Ja, anmelden",
    confirmed_title: "Sie sind angemeldet",
    confirmed_body: "Vielen Dank für Ihre Bestätigung. Sie sind jetzt angemeldet für",
    cancelled_title: "Diese Anmeldung wurde abgebrochen",
    cancelled_body: "Diese Anmeldung wurde abgebrochen. Wenn Sie sich anmelden möchten, melden Sie sich bitte erneut an.",
    unsubscribe_title: "Abmelden",
    unsubscribe_body: "Mit der Schaltfläche beenden Sie den Empfang von",
    unsubscribe_button: "Abmelden",
    unsubscribed_title: "Sie sind abgemeldet",
    unsubscribed_body: "Sie erhalten keine E-Mails mehr von",
    preferences_title: "Ihre Abonnements",
    preferences_body: "Wählen Sie die Abonnements, die Sie beenden möchten.",
    leave_selected: "Ausgewählte abbestellen",
    leave_all: "Alles abbestellen",
    no_subscriptions: "Für diese Adresse bestehen keine Abonnements.",
    status_pending: "Bestätigung ausstehend",
    status_confirmed: "angemeldet",
    status_unsubscribed: "abgemeldet",
    link_invalid_title: "Dieser Link funktioniert nicht",
    link_invalid_body: "Der Link ist unvollständig oder ungültig. Bitte verwenden Sie den vollständigen Link aus der neuesten E-Mail.",
    link_expired_title: "Dieser Link ist abgelaufen",
    link_expired_body: "Bestätigungslinks sind nur begrenzt gültig. Wir können Ihnen einen neuen senden.",
    resend_button: "Neuen Link senden",
    resent_title: "Ein neuer Link ist unterwegs",
    resent_body: "Sofern die Anmeldung noch offen ist, haben wir Ihnen einen neuen Bestätigungslink geschickt. Bitte prüfen Sie Ihr Postfach.",
    not_found_title: "Seite nicht gefunden",
    not_found_body: "Hier gibt es nichts.",
    bad_request_title: "Mit dieser Anfrage stimmt etwas nicht",
    error_title: "Etwas ist schiefgegangen",
    error_body: "Bitte versuchen Sie es gleich noch einmal.",
    busy_title: "Gerade ausgelastet",
    busy_body: "Es wurde nichts geändert. Bitte versuchen Sie es gleich noch einmal.",
    consent_missing: "Bitte setzen Sie das Häkchen, um Ihre Einwilligung zu erteilen.",
    fix_errors: "Bitte korrigieren Sie die markierten Felder.",
    index_title: "Unsere Newsletter",
    index_empty: "Noch gibt es keine Newsletter zum Anmelden.",
    add_title: "Newsletter hinzufügen",
    add_body: "Setzen Sie bei jedem Newsletter, den Sie erhalten möchten, ein Häkchen. Wir senden Ihnen einen Link zur Bestätigung; bis dahin senden wir Ihnen nichts.",
    add_button: "Angekreuzte abonnieren",
    add_none_chosen: "Bitte kreuzen Sie die Newsletter an, die Sie erhalten möchten.",
    consent_per_list: "Bitte erteilen Sie Ihre Einwilligung für jeden Newsletter, den Sie erhalten möchten.",
    reason_question: "Verraten Sie uns, warum? (freiwillig)",
    reason_too_many: "Zu viele E-Mails",
    reason_not_relevant: "Für mich nicht interessant",
    reason_never_signed_up: "Ich habe mich nicht angemeldet",
    reason_other: "Etwas anderes",
    reason_comment: "Möchten Sie noch etwas sagen? (freiwillig)",
};

page_words!(
    /// Every string of the "manage my data" pages.
    PrivacyText {
        request_title,
        request_lead,
        request_button,
        sent_title,
        sent_body,
        too_many_title,
        too_many_body,
        landing_lead,
        show_button,
        data_title,
        profile_heading,
        language,
        processing,
        processing_normal,
        processing_restricted,
        processing_blocked,
        stored_since,
        attributes_heading,
        pending_address,
        subscriptions_heading,
        list,
        status,
        legal_basis,
        basis_consent,
        basis_interest,
        source,
        since,
        history_heading,
        when,
        what,
        network,
        browser,
        messages_heading,
        none,
        products_heading,
        no_products,
        requests_heading,
        download_heading,
        download_json,
        download_csv,
        correct_heading,
        save,
        address_heading,
        address_hint,
        address_button,
        restrict_heading,
        restrict_hint,
        restrict_button,
        lift_button,
        withdraw_heading,
        withdraw_hint,
        erase_heading,
        erase_hint,
        erase_button,
        done_restricted,
        done_lifted,
        done_withdrawn,
        done_nothing,
        done_corrected,
        done_address,
        same_address,
        address_too_soon,
        address_too_many,
        erase_confirm_title,
        erase_confirm_lead,
        erase_confirm_button,
        erased_title,
        already_erased_title,
        already_erased_body,
        change_title,
        change_lead,
        change_confirm,
        change_refuse,
        changed_title,
        changed_body,
        refused_title,
        refused_body,
        in_use_title,
        in_use_body,
    }
    and {
        erased_kept: [&'static str; 4] = take_list,
        /// Words for consent actions, by `ConsentAction::as_str`.
        actions: &'static [(&'static str, &'static str)] = take_words,
        /// Words for message kinds and delivery statuses, by their text form.
        messages: &'static [(&'static str, &'static str)] = take_words,
    }
);

/// The privacy words for `locale`: built in for English and German, from the `[privacy]`
/// table of the operator's `pages.toml` for a registered language.
pub fn privacy_text(locale: Locale) -> &'static PrivacyText {
    match locale {
        Locale::En => &PRIVACY_EN,
        Locale::De => &PRIVACY_DE,
        other => added(other).map_or(&PRIVACY_EN, |words| &words.privacy),
    }
}

static PRIVACY_EN: PrivacyText = PrivacyText {
    request_title: "Manage your data",
    request_lead: "Enter your e-mail address. If we hold data about it, we send it a link to your own data page, where you can see, download, correct, restrict or erase everything we store about you.",
    request_button: "Send me the link",
    sent_title: "Please check your inbox",
    sent_body: "If we hold data about this address, we have sent it a link to your data page. The link works for a limited time and only for this address.",
    too_many_title: "Too many requests",
    too_many_body: "Please wait a while before you ask again.",
    landing_lead: "Press the button to see everything we store about you. Each look is recorded in your history.",
    show_button: "Show my data",
    data_title: "Your data",
    profile_heading: "Your profile",
    language: "Language",
    processing: "Processing",
    processing_normal: "normal",
    processing_restricted: "restricted: we keep your data but use it for nothing and send you nothing",
    processing_blocked: "blocked by us: we send you nothing",
    stored_since: "Stored since",
    attributes_heading: "More that we hold about you",
    pending_address: "A change of your address waits for confirmation from the new address:",
    subscriptions_heading: "Your subscriptions",
    list: "List",
    status: "Status",
    legal_basis: "Why we may write to you",
    basis_consent: "your consent (Art. 6(1)(a) GDPR)",
    basis_interest: "our legitimate interest as your supplier (Art. 6(1)(f) GDPR)",
    source: "How",
    since: "Since",
    history_heading: "Your consent history",
    when: "When",
    what: "What",
    network: "Network",
    browser: "Browser",
    messages_heading: "E-mails to you",
    none: "None.",
    products_heading: "Products",
    no_products: "We keep no customer or product data about you.",
    requests_heading: "Your requests about your data",
    download_heading: "Download your data",
    download_json: "Download as JSON",
    download_csv: "Download as CSV",
    correct_heading: "Correct your data",
    save: "Save",
    address_heading: "Change your address",
    address_hint: "We send a link to the new address. The change takes effect once that link is used.",
    address_button: "Send the confirmation link",
    restrict_heading: "Restrict processing",
    restrict_hint: "While processing is restricted we keep your data, but use it for nothing: no e-mail of any kind goes out. Lifting the restriction takes one click.",
    restrict_button: "Restrict processing",
    lift_button: "Lift the restriction",
    withdraw_heading: "Withdraw your consent or object",
    withdraw_hint: "Choose the subscriptions you want to end.",
    erase_heading: "Erase your data",
    erase_hint: "Deletes your profile, your subscriptions and the records of e-mails to you. You will be asked to confirm.",
    erase_button: "Erase my data",
    done_restricted: "Processing of your data is now restricted.",
    done_lifted: "The restriction is lifted.",
    done_withdrawn: "Done: the chosen subscriptions are ended.",
    done_nothing: "Nothing needed to change.",
    done_corrected: "Your data is corrected.",
    done_address: "We have sent a confirmation link to the new address. Nothing changes until it is used.",
    same_address: "This is already your address.",
    address_too_soon: "We sent a confirmation link to a new address a few minutes ago. Please use it, or try again in a few minutes.",
    address_too_many: "We cannot send more e-mail to this address or from your network today. Please try again tomorrow.",
    erase_confirm_title: "Erase your data?",
    erase_confirm_lead: "This cannot be undone. Your profile, your subscriptions and the records of e-mails to you will be deleted, and we will not write to this address again unless it is signed up again on our form.",
    erase_confirm_button: "Yes, erase everything",
    erased_title: "Your data is erased",
    erased_kept: [
        "Your profile (address, name, language), your subscriptions and the records of e-mails to you are deleted.",
        "We keep a keyed hash of your address — a fingerprint from which the address cannot be read back — on our suppression list, so that no import or customer synchronisation can ever add you again (Art. 17(3)(b) and 21(3) GDPR). If the address is signed up again on our form, it gets only the request to confirm; once you confirm, the fingerprint is removed.",
        "We keep your consent history under the same fingerprint, without your address, network or browser, to be able to prove what you agreed to and when (Art. 7(1) and 17(3)(e) GDPR).",
        "We keep a record that your request was answered, without your address (Art. 5(2) GDPR).",
    ],
    already_erased_title: "Already erased",
    already_erased_body: "The data behind this link was already erased.",
    change_title: "Confirm your new address",
    change_lead: "Press the button to have us write to this address from now on:",
    change_confirm: "Use this address",
    change_refuse: "No, do not use it",
    changed_title: "Your address is changed",
    changed_body: "From now on we write to the new address.",
    refused_title: "The change is refused",
    refused_body: "This address will not be used. Nothing has changed.",
    in_use_title: "This address is already in use",
    in_use_body: "Another record uses this address, so nothing was changed. To keep only one, erase the other through its own data page.",
    actions: &[
        ("requested", "asked to subscribe"),
        ("confirmed", "confirmed the subscription"),
        ("unsubscribed", "unsubscribed"),
        ("objected", "objected"),
        ("enrolled", "added as a customer"),
        ("imported", "added with proof of consent"),
        ("rectified", "data corrected"),
        ("accessed", "looked at this data"),
        ("exported", "downloaded this data"),
        ("restricted", "restricted processing"),
        ("restriction_lifted", "lifted the restriction"),
        ("blocked", "blocked by us"),
        ("unblocked", "block lifted by us"),
        ("erased", "erased"),
        ("purged", "deleted under the retention policy"),
    ],
    messages: &[
        ("confirmation", "confirmation request"),
        ("welcome", "welcome"),
        ("campaign", "newsletter"),
        ("privacy_link", "link to this page"),
        ("address_change", "confirmation of a new address"),
        ("queued", "waiting"),
        ("sending", "being sent"),
        ("sent", "sent"),
        ("deferred", "will be retried"),
        ("failed", "could not be delivered"),
        ("suppressed", "not sent"),
        ("access", "access"),
        ("portability", "download"),
        ("rectification", "correction"),
        ("restriction", "restriction"),
        ("objection", "objection"),
        ("erasure", "erasure"),
        ("open", "open"),
        ("completed", "answered"),
        ("rejected", "refused"),
    ],
};

static PRIVACY_DE: PrivacyText = PrivacyText {
    request_title: "Ihre Daten verwalten",
    request_lead: "Geben Sie Ihre E-Mail-Adresse ein. Sofern wir Daten dazu speichern, senden wir an diese Adresse einen Link zu Ihrer Datenseite. Dort können Sie alles einsehen, herunterladen, berichtigen, einschränken oder löschen, was wir über Sie speichern.",
    request_button: "Link senden",
    sent_title: "Bitte prüfen Sie Ihr Postfach",
    sent_body: "Sofern wir Daten zu dieser Adresse speichern, haben wir ihr einen Link zu Ihrer Datenseite geschickt. Der Link ist nur kurze Zeit und nur für diese Adresse gültig.",
    too_many_title: "Zu viele Anfragen",
    too_many_body: "Bitte warten Sie eine Weile, bevor Sie erneut fragen.",
    landing_lead: "Mit der Schaltfläche sehen Sie alles, was wir über Sie speichern. Jeder Abruf wird in Ihrem Verlauf vermerkt.",
    show_button: "Meine Daten anzeigen",
    data_title: "Ihre Daten",
    profile_heading: "Ihr Profil",
    language: "Sprache",
    processing: "Verarbeitung",
    processing_normal: "normal",
    processing_restricted: "eingeschränkt: Wir speichern Ihre Daten, nutzen sie aber für nichts und senden Ihnen nichts",
    processing_blocked: "von uns gesperrt: Wir senden Ihnen nichts",
    stored_since: "Gespeichert seit",
    attributes_heading: "Weitere Angaben, die wir über Sie speichern",
    pending_address: "Eine Änderung Ihrer Adresse wartet auf die Bestätigung von der neuen Adresse:",
    subscriptions_heading: "Ihre Abonnements",
    list: "Liste",
    status: "Stand",
    legal_basis: "Warum wir Ihnen schreiben dürfen",
    basis_consent: "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
    basis_interest: "unser berechtigtes Interesse als Ihr Lieferant (Art. 6 Abs. 1 lit. f DSGVO)",
    source: "Wie",
    since: "Seit",
    history_heading: "Verlauf Ihrer Einwilligungen",
    when: "Wann",
    what: "Was",
    network: "Netz",
    browser: "Browser",
    messages_heading: "E-Mails an Sie",
    none: "Keine.",
    products_heading: "Produkte",
    no_products: "Wir speichern keine Kunden- oder Produktdaten über Sie.",
    requests_heading: "Ihre Anfragen zu Ihren Daten",
    download_heading: "Daten herunterladen",
    download_json: "Als JSON herunterladen",
    download_csv: "Als CSV herunterladen",
    correct_heading: "Daten berichtigen",
    save: "Speichern",
    address_heading: "Adresse ändern",
    address_hint: "Wir senden einen Link an die neue Adresse. Die Änderung gilt, sobald dieser Link benutzt wird.",
    address_button: "Bestätigungslink senden",
    restrict_heading: "Verarbeitung einschränken",
    restrict_hint: "Solange die Verarbeitung eingeschränkt ist, speichern wir Ihre Daten, nutzen sie aber für nichts: Es geht keinerlei E-Mail an Sie hinaus. Die Aufhebung ist ein Klick.",
    restrict_button: "Verarbeitung einschränken",
    lift_button: "Einschränkung aufheben",
    withdraw_heading: "Einwilligung widerrufen oder widersprechen",
    withdraw_hint: "Wählen Sie die Abonnements, die Sie beenden möchten.",
    erase_heading: "Daten löschen",
    erase_hint: "Löscht Ihr Profil, Ihre Abonnements und die Aufzeichnungen der E-Mails an Sie. Sie werden um Bestätigung gebeten.",
    erase_button: "Meine Daten löschen",
    done_restricted: "Die Verarbeitung Ihrer Daten ist jetzt eingeschränkt.",
    done_lifted: "Die Einschränkung ist aufgehoben.",
    done_withdrawn: "Erledigt: Die gewählten Abonnements sind beendet.",
    done_nothing: "Es musste nichts geändert werden.",
    done_corrected: "Ihre Daten sind berichtigt.",
    done_address: "Wir haben einen Bestätigungslink an die neue Adresse gesendet. Bis er benutzt wird, ändert sich nichts.",
    same_address: "Das ist bereits Ihre Adresse.",
    address_too_soon: "Wir haben vor wenigen Minuten einen Bestätigungslink an eine neue Adresse geschickt. Bitte verwenden Sie diesen oder versuchen Sie es in einigen Minuten erneut.",
    address_too_many: "Wir können heute keine weiteren E-Mails an diese Adresse oder aus Ihrem Netz senden. Bitte versuchen Sie es morgen erneut.",
    erase_confirm_title: "Ihre Daten löschen?",
    erase_confirm_lead: "Das lässt sich nicht rückgängig machen. Ihr Profil, Ihre Abonnements und die Aufzeichnungen der E-Mails an Sie werden gelöscht, und wir schreiben dieser Adresse nicht wieder, es sei denn, sie wird erneut über unser Formular angemeldet.",
    erase_confirm_button: "Ja, alles löschen",
    erased_title: "Ihre Daten sind gelöscht",
    erased_kept: [
        "Ihr Profil (Adresse, Name, Sprache), Ihre Abonnements und die Aufzeichnungen der E-Mails an Sie sind gelöscht.",
        "Wir behalten einen Schlüssel-Hash Ihrer Adresse – einen Fingerabdruck, aus dem sich die Adresse nicht zurückgewinnen lässt – auf unserer Sperrliste, damit kein Import und kein Kundenabgleich Sie je wieder aufnimmt (Art. 17 Abs. 3 lit. b und Art. 21 Abs. 3 DSGVO). Wird die Adresse erneut über unser Formular angemeldet, erhält sie nur die Bitte um Bestätigung; sobald Sie bestätigen, wird der Fingerabdruck gelöscht.",
        "Wir behalten den Verlauf Ihrer Einwilligungen unter demselben Fingerabdruck, ohne Adresse, Netz und Browser, um nachweisen zu können, wozu Sie wann eingewilligt haben (Art. 7 Abs. 1 und Art. 17 Abs. 3 lit. e DSGVO).",
        "Wir behalten einen Vermerk, dass Ihre Anfrage beantwortet wurde, ohne Ihre Adresse (Art. 5 Abs. 2 DSGVO).",
    ],
    already_erased_title: "Bereits gelöscht",
    already_erased_body: "Die Daten zu diesem Link wurden bereits gelöscht.",
    change_title: "Neue Adresse bestätigen",
    change_lead: "Mit der Schaltfläche schreiben wir künftig an diese Adresse:",
    change_confirm: "Diese Adresse verwenden",
    change_refuse: "Nein, nicht verwenden",
    changed_title: "Ihre Adresse ist geändert",
    changed_body: "Ab jetzt schreiben wir an die neue Adresse.",
    refused_title: "Die Änderung ist abgelehnt",
    refused_body: "Diese Adresse wird nicht verwendet. Es hat sich nichts geändert.",
    in_use_title: "Diese Adresse wird bereits verwendet",
    in_use_body: "Ein anderer Eintrag verwendet diese Adresse, daher wurde nichts geändert. Um nur einen zu behalten, löschen Sie den anderen über seine eigene Datenseite.",
    actions: &[
        ("requested", "Anmeldung angefragt"),
        ("confirmed", "Anmeldung bestätigt"),
        ("unsubscribed", "abgemeldet"),
        ("objected", "widersprochen"),
        ("enrolled", "als Kunde aufgenommen"),
        ("imported", "mit Einwilligungsnachweis übernommen"),
        ("rectified", "Daten berichtigt"),
        ("accessed", "diese Daten eingesehen"),
        ("exported", "diese Daten heruntergeladen"),
        ("restricted", "Verarbeitung eingeschränkt"),
        ("restriction_lifted", "Einschränkung aufgehoben"),
        ("blocked", "von uns gesperrt"),
        ("unblocked", "Sperre von uns aufgehoben"),
        ("erased", "gelöscht"),
        ("purged", "nach der Löschfrist entfernt"),
    ],
    messages: &[
        ("confirmation", "Bestätigungsanfrage"),
        ("welcome", "Willkommen"),
        ("campaign", "Newsletter"),
        ("privacy_link", "Link zu dieser Seite"),
        ("address_change", "Bestätigung einer neuen Adresse"),
        ("queued", "wartet"),
        ("sending", "wird gesendet"),
        ("sent", "gesendet"),
        ("deferred", "wird erneut versucht"),
        ("failed", "nicht zustellbar"),
        ("suppressed", "nicht gesendet"),
        ("access", "Auskunft"),
        ("portability", "Herunterladen"),
        ("rectification", "Berichtigung"),
        ("restriction", "Einschränkung"),
        ("objection", "Widerspruch"),
        ("erasure", "Löschung"),
        ("open", "offen"),
        ("completed", "beantwortet"),
        ("rejected", "abgelehnt"),
    ],
};

impl PrivacyText {
    /// The words for a consent action or a message kind/status, or the text itself.
    pub(crate) fn word<'a>(&self, table: &[(&'static str, &'static str)], key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        table
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, w)| w)
    }
}

page_words!(
    /// Every string of the public archive's pages.
    ArchiveText {
        title,
        lead,
        empty,
        feed,
        /// `{list}` stands for the list's name.
        subscribe_to,
        sent_on,
        read_in,
        placeholders,
        all_issues,
        /// `{list}` stands for the list's name.
        issues_of,
    }
);

/// The archive's words for `locale`: built in for English and German, from the `[archive]`
/// table of the operator's `pages.toml` for a registered language.
pub fn archive_text(locale: Locale) -> &'static ArchiveText {
    match locale {
        Locale::En => &ARCHIVE_EN,
        Locale::De => &ARCHIVE_DE,
        other => added(other).map_or(&ARCHIVE_EN, |words| &words.archive),
    }
}

static ARCHIVE_EN: ArchiveText = ArchiveText {
    title: "Newsletter archive",
    lead: "Past issues of our newsletters, as they were sent. Personal details are replaced by placeholders.",
    empty: "No issues have been published yet.",
    feed: "Atom feed",
    subscribe_to: "Subscribe to {list}",
    sent_on: "Sent on",
    read_in: "Read in:",
    placeholders: "This is the issue as it was sent, with placeholders where each recipient saw their own name, address and links.",
    all_issues: "All issues",
    issues_of: "Issues of {list}",
};

static ARCHIVE_DE: ArchiveText = ArchiveText {
    title: "Newsletter-Archiv",
    lead: "Frühere Ausgaben unserer Newsletter, wie sie versandt wurden. Persönliche Angaben sind durch Platzhalter ersetzt.",
    empty: "Es wurden noch keine Ausgaben veröffentlicht.",
    feed: "Atom-Feed",
    subscribe_to: "{list} abonnieren",
    sent_on: "Versandt am",
    read_in: "Lesen auf:",
    placeholders: "Dies ist die Ausgabe, wie sie versandt wurde, mit Platzhaltern, wo jede Empfängerin und jeder Empfänger den eigenen Namen, die eigene Adresse und eigene Links sah.",
    all_issues: "Alle Ausgaben",
    issues_of: "Ausgaben von {list}",
};

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/pages.fr.toml")
    }

    fn sorted_keys(table: &toml::Table) -> Vec<&str> {
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    fn sorted(keys: &[&'static str]) -> Vec<&'static str> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_example_page_file_has_every_key_and_nothing_else() {
        let words = load_pages(&example()).unwrap();
        assert_eq!(words.text.signup_title, "S'abonner");
        assert_eq!(words.archive.issues_of, "Numéros de {list}");
        let mut table: toml::Table =
            toml::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap();
        let Some(toml::Value::Table(archive)) = table.remove("archive") else {
            panic!("the example has an [archive] table");
        };
        let Some(toml::Value::Table(privacy)) = table.remove("privacy") else {
            panic!("the example has a [privacy] table");
        };
        assert_eq!(sorted_keys(&table), sorted(Text::KEYS));
        assert_eq!(sorted_keys(&archive), sorted(ArchiveText::KEYS));
        assert_eq!(sorted_keys(&privacy), sorted(PrivacyText::KEYS));
        assert_eq!(words.privacy.erased_kept.len(), 4);
        assert_eq!(
            words.privacy.word(words.privacy.actions, "confirmed"),
            "a confirmé l'abonnement"
        );
        assert_eq!(
            Text::KEYS.len(),
            58,
            "a new Text field is a new pages.toml key"
        );
        assert_eq!(
            ArchiveText::KEYS.len(),
            10,
            "and a new ArchiveText field too"
        );
    }

    #[test]
    fn a_page_file_missing_or_adding_a_key_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pages.toml");
        let full = std::fs::read_to_string(example()).unwrap();
        let (core, archive) = full.split_once("\n[archive]\n").unwrap();
        let refusal = |source: String| {
            std::fs::write(&path, source).unwrap();
            load_pages(&path).unwrap_err().to_string()
        };
        let without = |text: &str, key: &str| -> String {
            text.lines()
                .filter(|l| !l.starts_with(key))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let err = refusal(format!(
            "{}\n[archive]\n{archive}",
            without(core, "busy_body")
        ));
        assert!(
            err.contains("pages.toml") && err.contains("\"busy_body\" is missing"),
            "{err}"
        );
        let err = refusal(format!("{core}\n[archive]\n{}", without(archive, "feed")));
        assert!(err.contains("\"archive.feed\" is missing"), "{err}");
        let err = refusal(format!("busy_bdy = \"x\"\n{full}"));
        assert!(err.contains("unknown key \"busy_bdy\""), "{err}");
        let err = refusal(full.replace("\n[archive]\n", "\n[archive]\nfed = \"x\"\n"));
        assert!(err.contains("unknown key \"archive.fed\""), "{err}");
        let err = refusal(format!("busy_body = 3\n{}", without(&full, "busy_body")));
        assert!(err.contains("must be a string"), "{err}");
        let err = refusal(without(&full, "purged"));
        assert!(
            err.contains("\"privacy.actions.purged\" is missing"),
            "{err}"
        );
        let err = refusal(format!("{full}\n[privacy.messages.extra]\n"));
        assert!(err.contains("privacy.messages.extra"), "{err}");
        let err = refusal(full.replace("erased_kept = [", "erased_kept = [\"one\"]\nrest = ["));
        assert!(
            err.contains("\"privacy.erased_kept\" must be a list of 4"),
            "{err}"
        );
        let err = refusal(core.to_owned());
        assert!(err.contains("[privacy] is missing"), "{err}");
        std::fs::write(&path, "signup_title = ").unwrap();
        assert!(load_pages(&path).is_err());
    }
}
