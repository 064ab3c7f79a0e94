//! The one permission table: role × action → allowed. galen-core checks it on every operation (see
//! `Clinic::authorize`); the CLI and the app never decide on their own. ARCHITECTURE.md prints this table.

use crate::value_list::value_list;
use std::fmt;

value_list! {
    /// A staff account's role.
    #[derive(PartialOrd, Ord)]
    pub enum Role { Admin = "admin", Doctor = "doctor", Nurse = "nurse", Receptionist = "receptionist" }
}

impl Role {
    /// Clinicians may use emergency access ("break-glass").
    pub fn is_clinician(self) -> bool {
        matches!(self, Role::Doctor | Role::Nurse)
    }
}

/// Something an operation does, which the table below allows per role. On the wire (the session's permissions)
/// as snake_case, e.g. `staff_manage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Action {
    // Patients
    /// Find patients.
    PatientSearch,
    /// See who a patient is and how to reach them.
    PatientReadDemographics,
    /// Register patients.
    PatientCreate,
    /// Edit demographics.
    PatientUpdateDemographics,
    /// See clinical fields.
    PatientReadClinical,
    /// Edit clinical fields.
    PatientUpdateClinical,
    /// Merge duplicate records.
    PatientMerge,
    // Documents
    /// Read documents.
    DocumentRead,
    /// Draft prescriptions.
    PrescriptionDraft,
    /// Draft certificates.
    CertificateDraft,
    /// Sign documents.
    DocumentSign,
    /// Void documents.
    DocumentVoid,
    /// Print documents.
    DocumentPrint,
    /// Export documents.
    DocumentExport,
    /// Export patients' records as FHIR (an admin's export carries demographics only).
    RecordExport,
    /// Import patients from FHIR files (clinical fields only for those who may edit them).
    RecordImport,
    // Appointments
    /// See the appointment book and the waiting room.
    AppointmentRead,
    /// Book, move and cancel appointments; check patients in; mark no-shows.
    AppointmentBook,
    /// Start and finish visits.
    VisitManage,
    // Administration
    /// Manage staff accounts.
    StaffManage,
    /// Change clinic settings.
    SettingsManage,
    /// Make backups.
    BackupCreate,
    /// Restore backups.
    BackupRestore,
    /// Rotate the database key.
    KeyRotate,
    /// Read the audit log.
    AuditRead,
    /// Manage partner sync.
    SyncManage,
}

impl Action {
    /// Every action, in the table's order.
    pub const ALL: [Action; 26] = [
        Action::PatientSearch,
        Action::PatientReadDemographics,
        Action::PatientCreate,
        Action::PatientUpdateDemographics,
        Action::PatientReadClinical,
        Action::PatientUpdateClinical,
        Action::PatientMerge,
        Action::DocumentRead,
        Action::PrescriptionDraft,
        Action::CertificateDraft,
        Action::DocumentSign,
        Action::DocumentVoid,
        Action::DocumentPrint,
        Action::DocumentExport,
        Action::RecordExport,
        Action::RecordImport,
        Action::AppointmentRead,
        Action::AppointmentBook,
        Action::VisitManage,
        Action::StaffManage,
        Action::SettingsManage,
        Action::BackupCreate,
        Action::BackupRestore,
        Action::KeyRotate,
        Action::AuditRead,
        Action::SyncManage,
    ];

    /// The action in words, as the permission table and refusals print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::PatientSearch => "search patients",
            Action::PatientReadDemographics => "view patient demographics",
            Action::PatientCreate => "register patients",
            Action::PatientUpdateDemographics => "edit patient demographics",
            Action::PatientReadClinical => "view clinical data",
            Action::PatientUpdateClinical => "edit clinical data",
            Action::PatientMerge => "merge patients",
            Action::DocumentRead => "view documents",
            Action::PrescriptionDraft => "draft prescriptions",
            Action::CertificateDraft => "draft certificates",
            Action::DocumentSign => "sign documents",
            Action::DocumentVoid => "void documents",
            Action::DocumentPrint => "print documents",
            Action::DocumentExport => "export documents",
            Action::RecordExport => "export patient records (FHIR)",
            Action::RecordImport => "import patients (FHIR)",
            Action::AppointmentRead => "see the appointment book",
            Action::AppointmentBook => "book appointments and check patients in",
            Action::VisitManage => "start and finish visits",
            Action::StaffManage => "manage staff accounts",
            Action::SettingsManage => "change clinic settings",
            Action::BackupCreate => "make backups",
            Action::BackupRestore => "restore backups",
            Action::KeyRotate => "rotate the database key",
            Action::AuditRead => "read the audit log",
            Action::SyncManage => "manage partner sync",
        }
    }

    /// Emergency access may grant these to a clinician whose role lacks them, for one patient, with a reason.
    /// Signing, voiding and everything administrative are never granted by break-glass.
    pub fn break_glass_eligible(self) -> bool {
        matches!(self, Action::PatientReadClinical | Action::PatientUpdateClinical | Action::DocumentRead)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Every action `role` may take (emergency grants aside): what the front ends show or hide.
pub fn allowed_to(role: Role) -> Vec<Action> {
    Action::ALL.into_iter().filter(|a| allowed(role, *a)).collect()
}

/// The permission table. Keep ARCHITECTURE.md's copy in step (a test compares them).
pub fn allowed(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        // Accounts, settings, backups and the audit log; demographics only so duplicates can be merged.
        // Never clinical data (the admin account is not a doctor's account).
        Role::Admin => matches!(
            action,
            StaffManage
                | SettingsManage
                | BackupCreate
                | BackupRestore
                | KeyRotate
                | AuditRead
                | SyncManage
                | PatientSearch
                | PatientReadDemographics
                | PatientMerge
                | RecordExport
                | RecordImport
        ),
        // Everything clinical, including signing.
        Role::Doctor => matches!(
            action,
            PatientSearch
                | PatientReadDemographics
                | PatientCreate
                | PatientUpdateDemographics
                | PatientReadClinical
                | PatientUpdateClinical
                | PatientMerge
                | DocumentRead
                | PrescriptionDraft
                | CertificateDraft
                | DocumentSign
                | DocumentVoid
                | DocumentPrint
                | DocumentExport
                | RecordExport
                | RecordImport
                | AppointmentRead
                | AppointmentBook
                | VisitManage
        ),
        // Reads clinical data and may draft prescriptions; prints what a doctor signed; sees the book.
        Role::Nurse => matches!(
            action,
            PatientSearch
                | PatientReadDemographics
                | PatientCreate
                | PatientUpdateDemographics
                | PatientReadClinical
                | DocumentRead
                | PrescriptionDraft
                | DocumentPrint
                | AppointmentRead
        ),
        // Registers, edits demographics and searches, keeps the appointment book; sees no clinical fields and no
        // documents.
        Role::Receptionist => matches!(
            action,
            PatientSearch
                | PatientReadDemographics
                | PatientCreate
                | PatientUpdateDemographics
                | AppointmentRead
                | AppointmentBook
        ),
    }
}

/// The table as Markdown, one row per action, for ARCHITECTURE.md.
pub fn markdown_table() -> String {
    let mut out = String::from("| action | admin | doctor | nurse | receptionist |\n|---|---|---|---|---|\n");
    for action in Action::ALL {
        out.push_str(&format!("| {action} |"));
        for &role in Role::ALL {
            let cell = if allowed(role, action) {
                "✓"
            } else if role.is_clinician() && action.break_glass_eligible() {
                "break-glass"
            } else {
                "—"
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
