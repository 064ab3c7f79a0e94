//! Table `settings`: clinic-wide settings as key/value rows: the letterhead, printing, the idle lock, the
//! interface language and the MRN prefix.

use crate::error::Result;
use crate::store::Store;
use crate::value_list::value_list;
use rusqlite::{Connection, OptionalExtension};
use time::Duration;

pub(crate) const SITE_NAME: &str = "site.name";
pub(crate) const SITE_ADDRESS: &str = "site.address";
pub(crate) const SITE_PHONE: &str = "site.phone";
pub(crate) const SITE_LOGO: &str = "site.logo";
pub(crate) const PAPER_SIZE: &str = "print.paper_size";
pub(crate) const IDLE_TIMEOUT_SECS: &str = "session.idle_timeout_secs";
pub(crate) const LANGUAGE: &str = "ui.language";
pub(crate) const PRINTOUT_LANGUAGE: &str = "print.language";
pub(crate) const MRN_PREFIX: &str = "mrn.prefix";

/// The idle lock's range, in minutes.
pub const IDLE_MINUTES_RANGE: std::ops::RangeInclusive<i64> = 1..=240;
/// The longest address.
pub const ADDRESS_MAX: usize = 300;
/// The longest phone number.
pub const PHONE_MAX: usize = 40;
/// The largest logo.
pub const LOGO_MAX_BYTES: usize = 256 * 1024;

value_list! {
    /// The paper documents print on.
    #[derive(Default)]
    pub enum PaperSize {
        #[default]
        A4 = "a4",
        Letter = "letter",
    }
}

value_list! {
    /// The interface languages with message catalogs.
    pub enum Language { En = "en", Pt = "pt", Es = "es" }
}

/// A logo image for the letterhead: PNG or JPEG, checked by its magic bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    /// `image/png` or `image/jpeg`.
    pub mime: String,
    /// The image.
    pub bytes: Vec<u8>,
}

impl Logo {
    /// A logo from an image file's bytes, its type read from them (`settings::update` refuses what is neither).
    pub fn new(bytes: Vec<u8>) -> Self {
        Self { mime: image_mime(&bytes).unwrap_or_default().to_owned(), bytes }
    }
}

/// Clinic-wide settings: the letterhead, printing, the idle lock and the interface language. The letterhead
/// is printed on every document, so it is not secret: anyone may read these, only admins change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The clinic's name.
    pub site_name: String,
    /// Its address, printed on documents.
    pub address: String,
    /// Its phone number.
    pub phone: String,
    /// Its logo.
    pub logo: Option<Logo>,
    /// The paper documents print on.
    pub paper_size: PaperSize,
    /// Minutes before an idle session locks.
    pub idle_timeout_minutes: i64,
    /// The interface language (a [`Language`]).
    pub language: String,
    /// The language printouts are worded in (a [`Language`]); until set, the interface language.
    pub printout_language: String,
    /// Starts every new MRN, e.g. `SOL` in `SOL-0000042K`. Changing it affects new patients only.
    pub mrn_prefix: String,
}

/// The clinic's name, as printed on documents. Not secret: shown before sign-in.
pub fn site_name(store: &Store) -> Result<Option<String>> {
    site_name_conn(store.conn())
}

pub(crate) fn site_name_conn(conn: &Connection) -> Result<Option<String>> {
    get(conn, SITE_NAME)
}

/// The clinic's MRN prefix: the setting (made at setup, see `mrn::prefix_for`), else, for a clinic set up before
/// the prefix was stored, up to three letters of its name, as it has always issued.
pub(crate) fn mrn_prefix(conn: &Connection) -> Result<String> {
    if let Some(p) = get(conn, MRN_PREFIX)?.filter(|p| !p.is_empty()) {
        return Ok(p);
    }
    let site = site_name_conn(conn)?.unwrap_or_default();
    let letters: String = crate::text::fold(&site).chars().filter(char::is_ascii_alphabetic).take(3).collect();
    Ok(if letters.len() >= 2 { letters.to_uppercase() } else { "GAL".into() })
}

/// How long before an idle session locks, if set.
pub fn idle_timeout(store: &Store) -> Result<Option<Duration>> {
    Ok(get(store.conn(), IDLE_TIMEOUT_SECS)?.and_then(|s| s.parse().ok()).map(Duration::seconds))
}

/// Every setting, with defaults for those never set.
pub fn load(store: &Store) -> Result<Settings> {
    let c = store.conn();
    let text = |key| -> Result<String> { Ok(get(c, key)?.unwrap_or_default()) };
    let logo = get(c, SITE_LOGO)?
        .and_then(|encoded| crate::crypto::base64_decode(&encoded))
        .and_then(|bytes| image_mime(&bytes).map(|mime| Logo { mime: mime.to_owned(), bytes }));
    let language = get(c, LANGUAGE)?.filter(|l| Language::parse(l).is_some()).unwrap_or_else(|| "en".into());
    Ok(Settings {
        site_name: text(SITE_NAME)?,
        address: text(SITE_ADDRESS)?,
        phone: text(SITE_PHONE)?,
        logo,
        paper_size: get(c, PAPER_SIZE)?.and_then(|p| PaperSize::parse(&p)).unwrap_or_default(),
        idle_timeout_minutes: idle_timeout(store)?
            .map_or(crate::session::DEFAULT_IDLE_TIMEOUT.whole_minutes(), |d| d.whole_minutes()),
        printout_language: get(c, PRINTOUT_LANGUAGE)?
            .filter(|l| Language::parse(l).is_some())
            .unwrap_or_else(|| language.clone()),
        language,
        mrn_prefix: mrn_prefix(c)?,
    })
}

pub(crate) fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

pub(crate) fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub(crate) fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )?;
    Ok(())
}
