//! Wire types: what crosses the IPC boundary, converted from galen-core's domain types with `From`.
//! Secrets cross only where a person must see them once (a new recovery key, a temporary password).

use galen_core::patients::{self, search};
use galen_core::{audit, session::SessionInfo, settings, staff, Action, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    Admin,
    Doctor,
    Nurse,
    Receptionist,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleDto::Admin,
            Role::Doctor => RoleDto::Doctor,
            Role::Nurse => RoleDto::Nurse,
            Role::Receptionist => RoleDto::Receptionist,
        }
    }
}

impl From<RoleDto> for Role {
    fn from(r: RoleDto) -> Self {
        match r {
            RoleDto::Admin => Role::Admin,
            RoleDto::Doctor => Role::Doctor,
            RoleDto::Nurse => Role::Nurse,
            RoleDto::Receptionist => Role::Receptionist,
        }
    }
}

/// Forms that carry a password print it redacted.
macro_rules! redacted_debug {
    ($ty:ident, $($field:ident),+) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))$(.field(stringify!($field), &self.$field))+.finish_non_exhaustive()
            }
        }
    };
}
redacted_debug!(SetupForm, site_name, admin_username, admin_display_name);
redacted_debug!(NewStaffForm, username, display_name, role, licence_number);
redacted_debug!(SetupDone, keyring_warning);

/// Where the app is in its life: which screen to show.
#[derive(Debug, Clone, Copy, Serialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// No clinic yet: first-run setup.
    Setup,
    /// The keyring could not give the key: unlock with the admin password or the recovery key.
    Unlock,
    /// Open, nobody signed in.
    Login,
    /// Someone is signed in (possibly locked: see `session.locked`).
    Ready,
    /// The database cannot be opened (damaged, newer schema...): `problem` says what to do.
    Error,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    pub stage: Stage,
    /// Why unlock or error was reached, in plain words.
    pub problem: Option<crate::error::ApiError>,
    pub site_name: Option<String>,
    pub language: String,
    pub session: Option<SessionDto>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    pub locked: bool,
    pub must_change_password: bool,
    pub idle_timeout_secs: i64,
    /// What the role allows, read from galen-core's table so the UI hides what core would refuse anyway.
    pub can: Capabilities,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub register_patients: bool,
    pub read_clinical: bool,
    pub edit_clinical: bool,
    pub merge_patients: bool,
    pub read_documents: bool,
    pub draft_prescriptions: bool,
    pub draft_certificates: bool,
    pub sign_documents: bool,
    pub print_documents: bool,
    pub admin: bool,
}

impl From<SessionInfo> for SessionDto {
    fn from(s: SessionInfo) -> Self {
        let may = |a| galen_core::permissions::allowed(s.role, a);
        Self {
            can: Capabilities {
                register_patients: may(Action::PatientCreate),
                read_clinical: may(Action::PatientReadClinical),
                edit_clinical: may(Action::PatientUpdateClinical),
                merge_patients: may(Action::PatientMerge),
                read_documents: may(Action::DocumentRead),
                draft_prescriptions: may(Action::PrescriptionDraft),
                draft_certificates: may(Action::CertificateDraft),
                sign_documents: may(Action::DocumentSign),
                print_documents: may(Action::DocumentPrint),
                admin: may(Action::StaffManage),
            },
            username: s.username,
            display_name: s.display_name,
            role: s.role.into(),
            locked: s.locked,
            must_change_password: s.must_change_password,
            idle_timeout_secs: s.idle_timeout_secs,
        }
    }
}

#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupForm {
    pub site_name: String,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: String,
}

#[derive(Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SetupDone {
    /// Shown once, then forgotten by the UI.
    pub recovery_key: String,
    pub keyring_warning: Option<String>,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct StaffDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    pub licence_number: Option<String>,
    pub active: bool,
    pub must_change_password: bool,
}

impl From<staff::StaffMember> for StaffDto {
    fn from(m: staff::StaffMember) -> Self {
        Self {
            id: m.id,
            username: m.username,
            display_name: m.display_name,
            role: m.role.into(),
            licence_number: m.licence_number,
            active: m.active,
            must_change_password: m.must_change_password,
        }
    }
}

#[derive(Clone, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct NewStaffForm {
    pub username: String,
    pub display_name: String,
    pub role: RoleDto,
    pub licence_number: Option<String>,
    pub password: String,
}

impl From<NewStaffForm> for staff::NewStaff {
    fn from(f: NewStaffForm) -> Self {
        staff::NewStaff {
            username: f.username,
            display_name: f.display_name,
            role: f.role.into(),
            licence_number: f.licence_number,
            password: f.password.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryDto {
    pub id: i64,
    pub at: String,
    pub username: String,
    pub role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub outcome: String,
    pub break_glass: bool,
}

impl From<audit::Entry> for AuditEntryDto {
    fn from(e: audit::Entry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            username: e.username,
            role: e.role,
            action: e.action,
            entity_type: e.entity_type,
            entity_id: e.entity_id,
            outcome: e.outcome,
            break_glass: e.break_glass,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AuditVerifyDto {
    pub ok: bool,
    pub rows: Option<i64>,
    /// The first break, e.g. "row 5 was edited: its contents no longer match its hash".
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PaperSizeDto {
    A4,
    Letter,
}

/// The settings screen's form, both ways. The logo travels as a `data:` URL.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    pub site_name: String,
    pub address: String,
    pub phone: String,
    pub logo_data_url: Option<String>,
    pub paper_size: PaperSizeDto,
    pub idle_timeout_minutes: i64,
    pub language: String,
    pub mrn_prefix: String,
}

impl From<settings::Settings> for SettingsDto {
    fn from(s: settings::Settings) -> Self {
        Self {
            site_name: s.site_name,
            address: s.address,
            phone: s.phone,
            logo_data_url: s
                .logo
                .map(|l| format!("data:{};base64,{}", l.mime, galen_core::crypto::base64_encode(&l.bytes))),
            paper_size: match s.paper_size {
                settings::PaperSize::A4 => PaperSizeDto::A4,
                settings::PaperSize::Letter => PaperSizeDto::Letter,
            },
            idle_timeout_minutes: s.idle_timeout_minutes,
            language: s.language,
            mrn_prefix: s.mrn_prefix,
        }
    }
}

impl SettingsDto {
    /// Back to the domain type; a `data:` URL that does not decode becomes an invalid logo, so galen-core
    /// reports it against the `logo` field.
    pub fn into_settings(self) -> settings::Settings {
        let logo = self.logo_data_url.as_deref().map(|url| {
            let (head, data) = url.split_once(',').unwrap_or(("", ""));
            settings::Logo {
                mime: head.trim_start_matches("data:").trim_end_matches(";base64").to_owned(),
                bytes: galen_core::crypto::base64_decode(data).unwrap_or_default(),
            }
        });
        settings::Settings {
            site_name: self.site_name,
            address: self.address,
            phone: self.phone,
            logo,
            paper_size: match self.paper_size {
                PaperSizeDto::A4 => settings::PaperSize::A4,
                PaperSizeDto::Letter => settings::PaperSize::Letter,
            },
            idle_timeout_minutes: self.idle_timeout_minutes,
            language: self.language,
            mrn_prefix: self.mrn_prefix,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AllergyDto {
    pub substance: String,
    pub severity: String,
    pub reaction: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ClinicalForm {
    pub blood_type: String,
    pub allergies: Vec<AllergyDto>,
    pub conditions: Vec<String>,
    pub pregnancy_status: String,
    pub pregnancy_as_of: String,
    pub notes: String,
}

/// The patient form, both ways. `clinical` is absent for roles that may not see it.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientForm {
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    pub date_of_birth: String,
    pub estimated_age: Option<u32>,
    pub national_id: String,
    pub phones: Vec<String>,
    pub email: String,
    pub address: String,
    pub emergency_name: String,
    pub emergency_phone: String,
    pub emergency_relation: String,
    pub consent_share: bool,
    pub clinical: Option<ClinicalForm>,
}

impl PatientForm {
    pub fn into_parts(self) -> (patients::Demographics, Option<patients::Clinical>) {
        let d = patients::Demographics {
            given_names: self.given_names,
            family_name: self.family_name,
            // An unknown value is kept as "unknown"; the select only offers the four.
            sex: patients::Sex::parse(&self.sex).unwrap_or_default(),
            date_of_birth: self.date_of_birth,
            estimated_age: self.estimated_age,
            national_id: self.national_id,
            phones: self.phones,
            email: self.email,
            address: self.address,
            emergency_contact: patients::EmergencyContact {
                name: self.emergency_name,
                phone: self.emergency_phone,
                relation: self.emergency_relation,
            },
            consent_share: self.consent_share,
        };
        let c = self.clinical.map(|c| patients::Clinical {
            blood_type: c.blood_type,
            allergies: c
                .allergies
                .into_iter()
                .map(|a| patients::Allergy { substance: a.substance, severity: a.severity, reaction: a.reaction })
                .collect(),
            conditions: c.conditions,
            pregnancy_status: c.pregnancy_status,
            pregnancy_as_of: c.pregnancy_as_of,
            notes: c.notes,
        });
        (d, c)
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientDto {
    pub id: i64,
    pub mrn: String,
    pub form: PatientForm,
    pub dob_estimated: bool,
    pub deceased: bool,
    /// The MRN as a Code 128 barcode, an SVG `data:` URL.
    pub barcode_data_url: Option<String>,
}

impl From<patients::Patient> for PatientDto {
    fn from(p: patients::Patient) -> Self {
        let d = p.demographics;
        let barcode = galen_core::mrn::barcode_svg(&p.mrn, 60)
            .map(|svg| format!("data:image/svg+xml;base64,{}", galen_core::crypto::base64_encode(svg.as_bytes())));
        Self {
            id: p.id,
            mrn: p.mrn,
            dob_estimated: p.dob_estimated,
            deceased: p.deceased,
            barcode_data_url: barcode,
            form: PatientForm {
                given_names: d.given_names,
                family_name: d.family_name,
                sex: d.sex.as_str().into(),
                date_of_birth: d.date_of_birth,
                estimated_age: None,
                national_id: d.national_id,
                phones: d.phones,
                email: d.email,
                address: d.address,
                emergency_name: d.emergency_contact.name,
                emergency_phone: d.emergency_contact.phone,
                emergency_relation: d.emergency_contact.relation,
                consent_share: d.consent_share,
                clinical: p.clinical.map(|c| ClinicalForm {
                    blood_type: c.blood_type,
                    allergies: c
                        .allergies
                        .into_iter()
                        .map(|a| AllergyDto { substance: a.substance, severity: a.severity, reaction: a.reaction })
                        .collect(),
                    conditions: c.conditions,
                    pregnancy_status: c.pregnancy_status,
                    pregnancy_as_of: c.pregnancy_as_of,
                    notes: c.notes,
                }),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PatientSummaryDto {
    pub id: i64,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub dob_estimated: bool,
    pub sex: String,
    pub phones: Vec<String>,
    pub deceased: bool,
}

impl From<patients::Summary> for PatientSummaryDto {
    fn from(s: patients::Summary) -> Self {
        Self {
            id: s.id,
            mrn: s.mrn,
            given_names: s.given_names,
            family_name: s.family_name,
            date_of_birth: s.date_of_birth,
            dob_estimated: s.dob_estimated,
            sex: s.sex.as_str().into(),
            phones: s.phones,
            deceased: s.deceased,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SearchPageDto {
    pub results: Vec<PatientSummaryDto>,
    pub more: bool,
    pub mrn_check_failed: bool,
}

impl From<search::Page> for SearchPageDto {
    fn from(p: search::Page) -> Self {
        Self {
            results: p.results.into_iter().map(Into::into).collect(),
            more: p.more,
            mrn_check_failed: p.mrn_check_failed,
        }
    }
}

// ---- Documents ---------------------------------------------------------------------------------------------
// The wire shapes mirror galen-core's document fields one to one (same names, same JSON), so the conversions
// go through serde; a test round-trips every kind.

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct RxLineDto {
    pub medicament: String,
    pub indication: String,
    pub dose: String,
    pub dose_unit: String,
    pub route: String,
    pub form: String,
    pub quantity: u32,
    pub frequency: u32,
    pub frequency_unit: String,
    pub prn: bool,
    pub duration: u32,
    pub duration_period: String,
    pub refills: u32,
    pub allow_substitution: bool,
    pub valid_until: String,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct PrescriptionDto {
    pub issued_on: String,
    pub pharmacy: String,
    pub notes: String,
    pub lines: Vec<RxLineDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct BirthDto {
    pub mother_name: String,
    pub father_name: String,
    pub date_of_birth: String,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
    pub certified_on: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct UnderlyingDto {
    pub condition: String,
    pub interval: u32,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct DeathDto {
    pub died_at: String,
    pub immediate_cause: String,
    pub underlying_conditions: Vec<UnderlyingDto>,
    pub manner: String,
    pub place: String,
    pub place_details: String,
    pub autopsy: bool,
    pub country: String,
    pub subdivision: String,
    pub institution: String,
    pub observations: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct SickLeaveDto {
    pub unfit_from: String,
    pub unfit_to: String,
    pub restrictions: String,
    pub diagnosis: String,
    pub diagnosis_consent: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
pub struct VoidDto {
    pub voids: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyDto {
    Prescription(PrescriptionDto),
    Birth(BirthDto),
    Death(DeathDto),
    SickLeave(SickLeaveDto),
    Void(VoidDto),
}

fn reshape<A: Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    // Same field names on both sides (checked by `every_document_kind_round_trips`), so this cannot fail.
    #[allow(clippy::expect_used)]
    serde_json::from_value(serde_json::to_value(a).expect("serializes")).expect("same shape")
}

impl From<BodyDto> for galen_core::documents::Body {
    fn from(b: BodyDto) -> Self {
        reshape(&b)
    }
}

impl From<&galen_core::documents::Body> for BodyDto {
    fn from(b: &galen_core::documents::Body) -> Self {
        reshape(b)
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SignerDto {
    pub name: String,
    pub licence: String,
    pub fingerprint: String,
}

impl From<galen_core::documents::SignerSnapshot> for SignerDto {
    fn from(s: galen_core::documents::SignerSnapshot) -> Self {
        Self { name: s.name, licence: s.licence, fingerprint: s.fingerprint }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentSummaryDto {
    pub id: i64,
    pub kind: String,
    pub signed: bool,
    pub signed_at: Option<String>,
    pub signer: Option<SignerDto>,
    pub superseded_by: Option<i64>,
    pub voided_by: Option<i64>,
}

impl From<galen_core::documents::Document> for DocumentSummaryDto {
    fn from(d: galen_core::documents::Document) -> Self {
        Self {
            id: d.id,
            kind: d.body.kind().into(),
            signed: d.signed,
            signed_at: d.signed_at,
            signer: d.signer.map(Into::into),
            superseded_by: d.superseded_by,
            voided_by: d.voided_by,
        }
    }
}

/// A document another site shared, as the chart lists it and the viewer opens it. What was signed is shown only
/// when the doctor's signature verifies; otherwise `problem` says why.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedDocumentDto {
    pub uuid: String,
    pub kind: String,
    pub received_at: String,
    pub problem: Option<String>,
    /// The clinic the doctor signed at.
    pub clinic: Option<String>,
    pub signer: Option<SignerDto>,
    pub signed_at: Option<String>,
    /// The patient as the signed document names them.
    pub patient_name: Option<String>,
    /// Absent in lists, and for a document this version of Galen cannot read.
    pub body: Option<BodyDto>,
}

impl ReceivedDocumentDto {
    /// For the chart's list: everything but the body.
    pub fn summary(r: &galen_core::sync::ReceivedDocument) -> Self {
        let signed = r.contents.as_ref().ok();
        // The kind the doctor signed, rather than the sending site's label, whenever it can be read.
        let kind = signed.and_then(|s| s.body()).map_or_else(|| r.document.kind.clone(), |b| b.kind().into());
        Self {
            uuid: r.document.uuid.clone(),
            kind,
            received_at: r.received_at.clone(),
            problem: r.contents.as_ref().err().map(ToString::to_string),
            clinic: signed.map(|s| s.clinic.clone()),
            signer: signed.map(|s| s.signer.clone().into()),
            signed_at: signed.map(|s| s.signed_at.clone()),
            patient_name: signed.map(|s| format!("{} {}", s.patient.given_names, s.patient.family_name)),
            body: None,
        }
    }

    /// For the viewer: the summary and what the doctor signed.
    pub fn whole(r: &galen_core::sync::ReceivedDocument) -> Self {
        let body = r.contents.as_ref().ok().and_then(|s| s.body()).map(|b| (&b).into());
        Self { body, ..Self::summary(r) }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct DocumentDto {
    pub id: i64,
    pub uuid: String,
    pub patient_id: i64,
    pub signed: bool,
    pub body: BodyDto,
    pub supersedes: Option<i64>,
    pub superseded_by: Option<i64>,
    pub voided_by: Option<i64>,
    pub signer: Option<SignerDto>,
    pub signed_at: Option<String>,
    /// `valid`, `unsigned` or `invalid`, recomputed when the document is opened.
    pub verification: String,
    pub verification_problem: Option<String>,
    /// What a signer must acknowledge first (allergies, pregnancy).
    pub warnings: Vec<String>,
    /// The printed QR (docs/qr-format.md) as an SVG `data:` URL, for signed documents.
    pub qr_data_url: Option<String>,
}

impl From<galen_core::documents::DocumentView> for DocumentDto {
    fn from(v: galen_core::documents::DocumentView) -> Self {
        use galen_core::documents::Verification;
        let (verification, problem) = match v.verification {
            Verification::Valid { .. } => ("valid", None),
            Verification::Unsigned => ("unsigned", None),
            Verification::Invalid { problem } => ("invalid", Some(problem.to_string())),
        };
        let d = v.document;
        Self {
            id: d.id,
            uuid: d.uuid,
            patient_id: d.patient_id,
            signed: d.signed,
            body: (&d.body).into(),
            supersedes: d.supersedes,
            superseded_by: d.superseded_by,
            voided_by: d.voided_by,
            signer: d.signer.map(Into::into),
            signed_at: d.signed_at,
            verification: verification.into(),
            verification_problem: problem,
            warnings: v.warnings.iter().map(ToString::to_string).collect(),
            qr_data_url: v
                .qr_text
                .and_then(|t| galen_core::documents::qr::svg(&t, 4))
                .map(|svg| format!("data:image/svg+xml;base64,{}", galen_core::crypto::base64_encode(svg.as_bytes()))),
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct MedicineDto {
    pub name: String,
    pub strength: String,
    pub form: String,
}

impl From<&galen_core::documents::formulary::Medicine> for MedicineDto {
    fn from(m: &galen_core::documents::formulary::Medicine) -> Self {
        Self { name: m.name.into(), strength: m.strength.into(), form: m.form.into() }
    }
}

/// What to print or save as PDF.
#[derive(Clone, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrintoutDto {
    Document { id: i64 },
    PatientCard { patient_id: i64 },
    RecoverySheet { recovery_key: String },
}

impl std::fmt::Debug for PrintoutDto {
    // The recovery key never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrintoutDto::Document { id } => write!(f, "Document({id})"),
            PrintoutDto::PatientCard { patient_id } => write!(f, "PatientCard({patient_id})"),
            PrintoutDto::RecoverySheet { .. } => f.write_str("RecoverySheet(..)"),
        }
    }
}

/// How a print left Galen: `printer` (queued with CUPS), `viewer` (opened to print from there) or `saved`
/// (nothing to print with); `message` says it in words, `path` is where the PDF was written.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct PrintedDto {
    pub route: String,
    pub message: String,
    pub path: String,
}

impl From<galen_core::pdf::print::Printed> for PrintedDto {
    fn from(p: galen_core::pdf::print::Printed) -> Self {
        use galen_core::pdf::print::Route;
        let path = p.path.display().to_string();
        let (route, message) = match p.route {
            Route::Printer { answer } => ("printer", answer),
            Route::Viewer { program } => ("viewer", program),
            Route::Saved { message } => ("saved", message),
        };
        PrintedDto { route: route.into(), message, path }
    }
}

/// This clinic's identity towards a partner (public parts).
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SiteIdentityDto {
    pub name: String,
    pub openpgp_fingerprint: String,
    pub safety_number: String,
    /// The day the client certificate expires (YYYY-MM-DD).
    pub certificate_valid_until: Option<String>,
}

impl From<galen_core::site::SiteIdentity> for SiteIdentityDto {
    fn from(s: galen_core::site::SiteIdentity) -> Self {
        SiteIdentityDto {
            certificate_valid_until: s.certificate_expires().map(|at| at.date().to_string()),
            name: s.name,
            openpgp_fingerprint: s.openpgp_fingerprint,
            safety_number: s.safety_number,
        }
    }
}

/// Who a pairing file says it is, and the safety number recomputed from its keys.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PartnerPreviewDto {
    pub name: String,
    pub safety_number: String,
}

impl From<galen_core::site::PairingFile> for PartnerPreviewDto {
    fn from(f: galen_core::site::PairingFile) -> Self {
        PartnerPreviewDto { name: f.site, safety_number: f.safety_number }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct PartnerDto {
    pub name: String,
    pub url: String,
    pub safety_number: String,
    pub paired_at: String,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusDto {
    pub partner: Option<PartnerDto>,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub pending: i64,
    pub open_conflicts: i64,
    pub received_documents: i64,
}

impl From<galen_core::sync::Status> for SyncStatusDto {
    fn from(s: galen_core::sync::Status) -> Self {
        SyncStatusDto {
            partner: s.partner.map(|p| PartnerDto {
                name: p.name,
                url: p.url,
                safety_number: p.safety_number,
                paired_at: p.paired_at,
            }),
            last_attempt: s.last_attempt,
            last_success: s.last_success,
            last_error: s.last_error,
            pending: s.pending,
            open_conflicts: s.open_conflicts,
            received_documents: s.received_documents,
        }
    }
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct SyncReportDto {
    pub queued: u32,
    pub pushed: u32,
    pub duplicates: u32,
    pub refused: u32,
    pub pulled: u32,
    pub new_conflicts: u32,
    pub rejected_here: u32,
}

impl From<galen_core::sync::Report> for SyncReportDto {
    fn from(r: galen_core::sync::Report) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        SyncReportDto {
            queued: n(r.queued),
            pushed: n(r.pushed),
            duplicates: n(r.duplicates),
            refused: n(r.refused),
            pulled: n(r.pulled),
            new_conflicts: n(r.new_conflicts),
            rejected_here: n(r.rejected_here),
        }
    }
}

/// One field of a conflict, both versions; `differs` marks what the two sites changed differently.
#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictFieldDto {
    pub field: String,
    pub local: String,
    pub incoming: String,
    pub differs: bool,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct ConflictDto {
    pub id: i64,
    pub name: String,
    pub found_at: String,
    pub incoming_origin: String,
    pub fields: Vec<ConflictFieldDto>,
}

impl From<galen_core::sync::Conflict> for ConflictDto {
    fn from(c: galen_core::sync::Conflict) -> Self {
        // Field by field, as plain text a person can compare (the UI labels each field from its catalog).
        let flat = |p: &galen_core::patients::shared::SharedPatient| -> Vec<(String, String)> {
            match serde_json::to_value(p) {
                Ok(serde_json::Value::Object(map)) => {
                    map.into_iter().filter(|(k, _)| k != "uuid").map(|(k, v)| (k, plain_text(&v))).collect()
                }
                _ => Vec::new(),
            }
        };
        let incoming: std::collections::HashMap<String, String> = flat(&c.incoming).into_iter().collect();
        let fields = flat(&c.local)
            .into_iter()
            .map(|(field, local)| {
                let theirs = incoming.get(&field).cloned().unwrap_or_default();
                ConflictFieldDto { differs: local != theirs, field, local, incoming: theirs }
            })
            .collect();
        ConflictDto {
            id: c.id,
            name: format!("{} {}", c.local.given_names, c.local.family_name),
            found_at: c.found_at,
            incoming_origin: c.incoming_origin,
            fields,
        }
    }
}

/// A JSON value as a person reads it: lists joined with "; ", objects' values with ", ", true as ✓.
fn plain_text(v: &serde_json::Value) -> String {
    use serde_json::Value;
    let join =
        |items: Vec<String>, sep: &str| items.into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(sep);
    match v {
        Value::Null | Value::Bool(false) => String::new(),
        Value::Bool(true) => "✓".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => join(items.iter().map(plain_text).collect(), "; "),
        Value::Object(map) => join(map.values().map(plain_text).collect(), ", "),
    }
}
