//! `galen verify`: a Galen PDF, exported files, or the text of a printed QR, checked offline with only the doctor's
//! public key or the clinic's trust list (no database). Prints who signed what and when, or why it failed.

use anyhow::{bail, Context, Result};
use galen_core::documents::{self, trust, Signed};
use galen_core::pdf;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `galen verify` checks.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A Galen PDF (it carries the signed JSON, the signature and a key), or UUID.json then UUID.json.asc.
    #[arg(required_unless_present = "qr", num_args = 1..=2)]
    pub files: Vec<PathBuf>,
    /// The text decoded from a printed QR (GALEN2:…, or GALEN1:… from before Galen 0.3), instead of files.
    #[arg(long, conflicts_with = "files")]
    pub qr: Option<String>,
    /// The doctor's public key (armored). A PDF carries one, but only a key you trust says who signed.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A clinic's trust list (`galen key export-trust`); repeat for several clinics. With trust lists, a signature
    /// counts only if a list vouches for its key, as that doctor's, when it signed; the lists also supply the key.
    #[arg(long)]
    pub trust: Vec<PathBuf>,
}

/// "Good signature: …" naming what was signed, for whom, by whom and when.
fn good(s: &Signed) -> String {
    format!(
        "Good signature: {} {} for {} {} ({}), signed by {} (licence {}) at {}; key {}",
        s.schema,
        s.document,
        s.patient.given_names,
        s.patient.family_name,
        s.patient.mrn,
        s.signer.name,
        s.signer.licence,
        s.signed_at,
        s.signer.fingerprint
    )
}

/// A signature that checked: what to say, and who signed when, for the trust lists to judge.
struct Checked {
    message: String,
    fingerprint: String,
    signed_at: String,
    /// The signer's licence, where the signed text names it on its own.
    licence: Option<String>,
}

impl Checked {
    fn of(s: &Signed) -> Checked {
        Checked {
            message: good(s),
            fingerprint: s.signer.fingerprint.clone(),
            signed_at: s.signed_at.clone(),
            licence: Some(s.signer.licence.clone()),
        }
    }
}

/// The whole of a file expected to be at most `limit` bytes; a larger one is refused without reading it all.
pub(crate) fn read(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > limit {
        bail!("{} is too large for what it should be", path.display());
    }
    Ok(bytes)
}

/// The first of `keys` the check accepts, or the first key's complaint.
fn with_any_key<T>(keys: &[String], check: impl Fn(&str) -> Result<T, String>) -> Result<T, String> {
    let mut first_error = None;
    for key in keys {
        match check(key) {
            Ok(found) => return Ok(found),
            Err(why) => {
                first_error.get_or_insert(why);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| "no key to check it with".into()))
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let VerifyArgs { files, qr, key, trust: trust_files } = args;
    let lists = trust_files
        .iter()
        .map(|path| {
            let text = String::from_utf8_lossy(&read(path, trust::MAX_BYTES)?).into_owned();
            trust::CheckedList::read(&text).with_context(|| format!("trust list {}", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    for list in &lists {
        eprintln!(
            "Trust list of {} (site key {}, issued {}): compare that fingerprint with the clinic.",
            list.list.clinic, list.site_fingerprint, list.list.issued_at
        );
    }
    let key_text = key
        .as_deref()
        .map(|k| read(k, trust::MAX_BYTES).map(|b| String::from_utf8_lossy(&b).into_owned()))
        .transpose()?;
    // The key to check with: the one given, else every key the trust lists carry.
    let keys: Vec<String> = match &key_text {
        Some(k) => vec![k.clone()],
        None => lists.iter().flat_map(|c| &c.list.doctors).map(|d| d.key.clone()).collect(),
    };
    if keys.is_empty() && !matches!(files.as_slice(), [_]) {
        bail!("give the doctor's public key with --key doctor.asc, or a clinic's trust list with --trust FILE");
    }
    let outcome: Result<Checked, String> = match (qr.as_deref(), files.as_slice()) {
        (Some(text), _) => {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            let report = documents::qr::report(text, &keys, documents::wording::Words::EN);
            report
                .verdict
                .map(|v| {
                    let width = report.fields.iter().map(|f| f.label.chars().count()).max().unwrap_or(0);
                    let mut message =
                        format!("Good signature (Galen QR format {}), key {}. The QR says:", v.format, v.fingerprint);
                    for f in &report.fields {
                        message.push_str(&format!("\n  {:width$}  {}", f.label, f.value));
                    }
                    message
                        .push_str("\nCompare each field with the paper: any difference means the paper was altered.");
                    Checked { message, fingerprint: v.fingerprint, signed_at: v.signed_at, licence: v.licence }
                })
                .map_err(|e| e.to_string())
        }
        (None, [pdf_file]) => pdf::verify_file(&read(pdf_file, pdf::MAX_PDF_BYTES)?, key_text.as_deref())
            .map(|v| {
                let mut checked = Checked::of(&v.signed);
                checked.message = match v.pages {
                    1 => format!("{}\nIts printed page is exactly what was signed.", checked.message),
                    n => format!("{}\nIts {n} printed pages are exactly what was signed.", checked.message),
                };
                if !v.trusted_key && lists.is_empty() {
                    checked.message = format!(
                        "{}\nChecked with the key inside the PDF: the file is intact and signed by key {}. Compare \
                         that fingerprint with the doctor's published key, pass it with --key, or pass the clinic's \
                         trust list with --trust, before trusting who signed.",
                        checked.message, v.fingerprint
                    );
                }
                checked
            })
            .map_err(|e| e.to_string()),
        (None, [json, signature]) => {
            let (j, s) = (read(json, pdf::MAX_PDF_BYTES)?, read(signature, trust::MAX_BYTES)?);
            with_any_key(&keys, |k| {
                documents::check_signed(&j, &String::from_utf8_lossy(&s), k).map_err(|p| p.to_string())
            })
            .map(|s| Checked::of(&s))
        }
        _ => bail!("give a PDF, or UUID.json and UUID.json.asc, or --qr TEXT"),
    };
    let checked = match outcome {
        Ok(checked) => checked,
        Err(why) => bail!("verification FAILED: {why}"),
    };
    println!("{}", checked.message);
    if lists.is_empty() {
        return Ok(());
    }
    match trust::vouch(&lists, &checked.fingerprint, &checked.signed_at, checked.licence.as_deref()) {
        vouched @ trust::Vouch::Vouched { .. } => {
            println!("Vouched: {vouched}.");
            Ok(())
        }
        trust::Vouch::NotVouched => {
            bail!("valid signature, but the signer is not vouched for by the trust lists given")
        }
        refused => bail!("verification FAILED: {refused}"),
    }
}
