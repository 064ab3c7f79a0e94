//! # galen-app
//!
//! Galen's desktop shell (Tauri 2). It holds the open clinic and the signed-in session (`state.rs`) and exposes
//! commands, one module per domain (`commands/`), each a few lines into galen-core, with that domain's wire types
//! (DTOs) beside them; `wire.rs` holds the few they share, and `values.rs` exports galen-core's value lists.
//! Errors cross as one serializable `{code, message, fields}` (`error.rs`). Every field crosses in camelCase. The UI calls these commands
//! only through `ui/src/lib/bindings.ts`, generated from this crate by tauri-specta; a test fails when the
//! checked-in file drifts.
//!
//! ```no_run
//! // src/main.rs
//! galen_app::run();
//! ```

pub mod commands;
pub mod dialogs;
pub mod error;
pub mod state;
mod values;
pub mod wire;

use galen_core::{vault, Vault};
use state::AppState;

/// Every command the UI may call, for the invoke handler and the TypeScript bindings alike.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use commands::{
        admin, appointments, backups, clinic, documents, keys, patients, printing, records, session, sync, verify,
    };
    values::export(tauri_specta::Builder::<tauri::Wry>::new())
        .commands(tauri_specta::collect_commands![
            clinic::app_status,
            clinic::setup_clinic,
            clinic::unlock_with_admin,
            clinic::unlock_with_recovery_key,
            session::login,
            session::logout,
            session::session_status,
            session::record_activity,
            session::lock_session,
            session::unlock_session,
            session::change_password,
            admin::staff_list,
            admin::staff_create,
            admin::staff_set_active,
            admin::staff_reset_password,
            admin::staff_clear_lock,
            admin::audit_list,
            admin::audit_verify,
            admin::audit_actions,
            admin::admin_attention,
            backups::backup_create,
            backups::backup_restore,
            backups::backup_status,
            backups::backup_folder_choose,
            backups::backup_schedule_set,
            backups::backup_schedule_off,
            backups::backup_run_now,
            backups::backup_drill,
            admin::settings_get,
            admin::settings_update,
            patients::patient_search,
            patients::patient_get,
            patients::patient_save,
            patients::patient_merge,
            appointments::patient_recent,
            appointments::appt_days,
            appointments::appt_doctors,
            appointments::appt_calendar,
            appointments::appt_book,
            appointments::appt_change,
            appointments::appt_cancel,
            appointments::appt_mark,
            appointments::appt_queue,
            appointments::appt_for_patient,
            appointments::appt_to_call,
            appointments::appt_reminders_save,
            appointments::appt_hours,
            appointments::appt_hours_save,
            documents::document_list,
            documents::document_worklist,
            documents::document_get,
            documents::document_create,
            documents::document_update,
            documents::document_sign,
            documents::document_void,
            documents::document_correct,
            documents::formulary_search,
            documents::received_recent,
            documents::received_list,
            documents::received_get,
            keys::doctor_keys,
            keys::doctor_key_revoke,
            keys::trust_list_save,
            keys::revocation_save,
            verify::trust_lists,
            verify::trust_list_import,
            verify::trust_list_forget,
            verify::verify_qr,
            verify::verify_pdf,
            records::record_copy,
            records::record_import_preview,
            records::record_import,
            records::record_import_cancel,
            printing::printout_save,
            printing::printout_print,
            printing::recovery_key_replace,
            sync::site_identity,
            sync::site_init,
            sync::site_pairing_file_save,
            sync::sync_preview,
            sync::sync_pair,
            sync::sync_status,
            sync::sync_now,
            sync::sync_conflicts,
            sync::patient_conflicts,
            sync::sync_resolve,
        ])
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

pub const BINDINGS_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

/// Writes the TypeScript bindings to `path`.
pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    specta_builder().export(specta_typescript::Typescript::default(), path).map_err(|e| e.to_string())
}

/// The data folder: `GALEN_DATA_DIR` if set, else the OS data directory.
fn data_dir() -> std::path::PathBuf {
    std::env::var_os("GALEN_DATA_DIR")
        .map(Into::into)
        .or_else(vault::default_data_dir)
        .unwrap_or_else(|| std::path::PathBuf::from("galen-data"))
}

/// Syncs with the paired partner while the clinic is open, as often as galen-core says (`background_wait`:
/// longer after failures). Before pairing it does nothing.
async fn background_sync(state: AppState) {
    use galen_core::sync::{self, Db};
    loop {
        let s = state.clone();
        let wait = tauri::async_runtime::spawn_blocking(move || s.with(sync::background_wait));
        tokio::time::sleep(wait.await.ok().and_then(Result::ok).unwrap_or(sync::BACKGROUND_EVERY)).await;
        let s = state.clone();
        let _ = tauri::async_runtime::spawn_blocking(move || {
            if matches!(s.with(sync::paired), Ok(true)) {
                // The outcome is recorded in the sync status the Partner sync screen shows.
                let _ = sync::run(&s, sync::Trigger::Background);
            }
        })
        .await;
    }
}

/// How often the app looks whether a scheduled backup is due; the first look, soon after start, catches up one
/// missed while it was closed.
const BACKUP_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(300);
const BACKUP_FIRST_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// Makes the scheduled backup when it is due, while the clinic is open. The backup runs on its own connection to
/// the database (which leaves the printouts a person may be viewing alone), so the person at the keyboard is not
/// kept waiting; its outcome shows on the Backup screen and the admin's home.
async fn background_backups(state: AppState) {
    use galen_core::backup::schedule::{self, Trigger};
    let mut wait = BACKUP_FIRST_CHECK;
    loop {
        tokio::time::sleep(wait).await;
        wait = BACKUP_CHECK_EVERY;
        let s = state.clone();
        let _ = tauri::async_runtime::spawn_blocking(move || {
            if !matches!(s.with_clinic(|c| Ok(schedule::due(c, Trigger::Timer)?)), Ok(Some(_))) {
                return;
            }
            match galen_core::Clinic::open_beside(s.vault.clone()) {
                // A failure is recorded and audited by galen-core, and shown as a warning.
                Ok(own) => {
                    let _ = schedule::run_due(&own, Trigger::Timer);
                }
                Err(e) => tracing::warn!(code = e.code(), "scheduled backup: the database did not open"),
            }
        })
        .await;
    }
}

/// A desktop session ending (SIGTERM) or Ctrl+C in the terminal that started the app closes it the same way as
/// its window, so what runs at exit (removing printouts) still runs.
async fn exit_on_signal(app: tauri::AppHandle) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("asked to quit by a signal");
        app.exit(0);
    }
    #[cfg(not(unix))]
    let _ = app;
}

pub fn run() {
    let builder = specta_builder();
    let vault = Vault::new(data_dir());
    if let Err(e) = galen_core::logging::to_data_folder(&vault) {
        eprintln!("warning: Galen cannot write its log: {e}");
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "app started");
    let state = AppState::new(vault.clone());
    let on_exit = state.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(state.clone())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            tauri::async_runtime::spawn(background_sync(state.clone()));
            tauri::async_runtime::spawn(background_backups(state));
            tauri::async_runtime::spawn(exit_on_signal(app.handle().clone()));
            Ok(())
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(move |_, event| {
            if let tauri::RunEvent::Exit = event {
                // Printouts left for a viewer do not outlive the app.
                vault.remove_printouts();
                // The audit log's head goes to the anchor file beside the database as the app closes, after the
                // backup the schedule makes on closing (its failure is recorded and shown at the next start).
                let _ = on_exit.with_clinic(|clinic| {
                    let _ =
                        galen_core::backup::schedule::run_due(clinic, galen_core::backup::schedule::Trigger::Closing);
                    clinic.anchor_audit_log();
                    Ok(())
                });
                tracing::info!("app closed");
            }
        }),
        Err(e) => {
            eprintln!("error: Galen could not start its window: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regenerate with `GALEN_WRITE_BINDINGS=1 cargo test -p galen-app bindings`.
    #[test]
    fn checked_in_bindings_match_the_rust_commands() {
        let fresh = tempfile::NamedTempFile::new().expect("temp file");
        export_bindings(fresh.path()).expect("export bindings");
        let fresh = std::fs::read_to_string(fresh.path()).expect("read fresh bindings");
        if std::env::var_os("GALEN_WRITE_BINDINGS").is_some() {
            std::fs::write(BINDINGS_PATH, &fresh).expect("write bindings");
        }
        let checked_in = std::fs::read_to_string(BINDINGS_PATH).unwrap_or_default();
        assert!(
            checked_in == fresh,
            "ui/src/lib/bindings.ts is out of date with the Rust commands; regenerate it with \
             `GALEN_WRITE_BINDINGS=1 cargo test -p galen-app bindings`"
        );
    }

    #[test]
    fn forms_with_passwords_never_print_them() {
        let form: commands::clinic::SetupForm = serde_json::from_value(serde_json::json!({
            "siteName": "S", "adminUsername": "ana", "adminDisplayName": "Ana", "adminPassword": "hunter2-secret-pass"
        }))
        .expect("form");
        assert!(!format!("{form:?}").contains("hunter2"), "{form:?}");
        let done = commands::clinic::SetupDone { recovery_key: "ABCD-EFGH-SECRET".into(), keyring_warning: None };
        assert!(!format!("{done:?}").contains("SECRET"), "the recovery key never prints: {done:?}");
        let staff: commands::admin::NewStaffForm = serde_json::from_value(serde_json::json!({
            "username": "rui", "displayName": "Rui", "role": "doctor", "licenceNumber": "L", "password": "hunter2-secret-pass"
        }))
        .expect("form");
        assert!(!format!("{staff:?}").contains("hunter2"), "{staff:?}");
    }

    #[test]
    fn the_csp_forbids_inline_scripts_and_remote_origins() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("tauri.conf.json parses");
        let csp = conf["app"]["security"]["csp"].as_str().expect("a CSP string, never null");
        let directive =
            |name: &str| csp.split(';').map(str::trim).find(|d| d.starts_with(name)).unwrap_or_default().to_owned();
        assert_eq!(directive("default-src"), "default-src 'self'");
        assert_eq!(directive("script-src"), "script-src 'self'", "scripts only from the bundle");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
        assert!(!csp.contains("http://") || csp.contains("connect-src ipc: http://ipc.localhost"), "{csp}");
        assert!(!csp.contains("https:") && !csp.contains('*'), "no remote origins: {csp}");
    }

    /// Every language has every message, and every `t("…")` key the UI uses exists.
    #[test]
    fn message_catalogs_are_complete() {
        let ui = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src");
        let keys = |lang: &str| -> std::collections::BTreeSet<String> {
            let text = std::fs::read_to_string(ui.join(format!("lib/i18n/{lang}.json"))).expect("catalog");
            let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).expect("json");
            map.keys().cloned().collect()
        };
        let en = keys("en");
        for lang in ["pt", "es"] {
            assert_eq!(keys(lang), en, "{lang}.json must have exactly the keys of en.json");
        }
        let mut used = Vec::new();
        let mut stack = vec![ui.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read ui/src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "svelte" || e == "ts") {
                    let text = std::fs::read_to_string(&path).expect("read source");
                    for part in text.split("t(\"").skip(1) {
                        if let Some(key) = part.split('"').next().filter(|k| k.contains('.')) {
                            used.push((key.to_owned(), path.display().to_string()));
                        }
                    }
                }
            }
        }
        assert!(used.len() > 50, "the scan found the UI's messages ({} keys)", used.len());
        for (key, file) in used {
            assert!(en.contains(&key), "{file} uses {key:?}, which en.json lacks");
        }
    }

    /// Every value of galen-core's value lists, and every kind of typed problem, warning and audit-chain break the
    /// UI words, has its message in English (and so, by the test above, in every language).
    #[test]
    fn every_value_and_typed_outcome_has_a_message() {
        use galen_core::documents::{
            DurationPeriod, FrequencyUnit, IntervalUnit, KeyNote, Manner, Place, Problem, Warning,
        };
        use galen_core::patients::{PregnancyStatus, Severity, Sex};
        let en: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(include_str!("../../ui/src/lib/i18n/en.json")).expect("en.json");
        let mut keys: Vec<String> = Vec::new();
        let lists: [(&str, &[&str]); 10] = [
            ("role", galen_core::Role::NAMES),
            ("sex", Sex::NAMES),
            ("severity", Severity::NAMES),
            ("pregnancy", PregnancyStatus::NAMES),
            ("documents.unit", FrequencyUnit::NAMES),
            ("documents.unit", DurationPeriod::NAMES),
            ("documents.unit", IntervalUnit::NAMES),
            ("documents.manners", Manner::NAMES),
            ("documents.places", Place::NAMES),
            ("settings.paper", &["a4", "letter"]),
        ];
        for (prefix, names) in lists {
            let sep = if prefix == "settings.paper" { "_" } else { "." };
            keys.extend(names.iter().map(|n| format!("{prefix}{sep}{n}")));
        }
        assert_eq!(galen_core::settings::PaperSize::NAMES, ["a4", "letter"], "the paper sizes listed above");
        let kind = |v: serde_json::Value| v["kind"].as_str().expect("a kind").to_owned();
        let problems = [
            Problem::SignatureMissing,
            Problem::Unreadable,
            Problem::KindChanged,
            Problem::OtherPatient,
            Problem::FieldsChanged,
            Problem::KeyMissing,
            Problem::NotAGalenDocument,
            Problem::OtherSigner,
            Problem::BadSignature(String::new()),
            Problem::KeyRevoked { at: String::new(), reason: String::new() },
        ];
        for p in problems {
            keys.push(format!("documents.problem.{}", kind(serde_json::to_value(p).expect("serializes"))));
        }
        let notes = [
            KeyNote::MadeAfterReset { by: String::new(), at: String::new() },
            KeyNote::RevokedLater { at: String::new(), reason: String::new() },
        ];
        for n in notes {
            keys.push(format!("documents.key_note.{}", kind(serde_json::to_value(n).expect("serializes"))));
        }
        use galen_core::documents::trust::Vouch;
        let vouches = [
            Vouch::Vouched {
                clinic: String::new(),
                site_fingerprint: String::new(),
                name: String::new(),
                licence: String::new(),
            },
            Vouch::Revoked { clinic: String::new(), at: String::new(), reason: String::new() },
            Vouch::OutsideValidity { clinic: String::new() },
            Vouch::OtherDoctor { clinic: String::new(), name: String::new(), licence: String::new() },
            Vouch::NotVouched,
        ];
        for v in vouches {
            keys.push(format!("documents.vouch.{}", kind(serde_json::to_value(v).expect("serializes"))));
        }
        let warnings =
            [Warning::Pregnancy, Warning::Allergy { substance: "".into(), severity: "".into(), medicament: "".into() }];
        for w in warnings {
            keys.push(format!("documents.warning.{}", kind(serde_json::to_value(w).expect("serializes"))));
        }
        for b in ["edited", "deleted", "deleted_one", "inserted", "reordered"] {
            keys.push(format!("audit.break.{b}"));
        }
        keys.extend(galen_core::audit::actions::ACTIONS.iter().map(|(code, _)| format!("audit.action.{code}")));
        // Every way sync fails has its own code and words (the status shows the last one later).
        use galen_core::error::SyncFailure;
        let failures = [
            SyncFailure::Unreachable { url: String::new(), cause: String::new() },
            SyncFailure::NotThePartner { url: String::new(), cause: String::new() },
            SyncFailure::Refused { status: String::new(), message: String::new() },
            SyncFailure::BadAnswer(String::new()),
            SyncFailure::RepeatedPage { after: 0, seq: 0 },
            SyncFailure::AnswerTooLarge,
            SyncFailure::Busy { retry_after_secs: 0 },
            SyncFailure::Keys(String::new()),
            SyncFailure::ClinicClosed,
            SyncFailure::Contents(String::new()),
        ];
        // A new way to fail stops this from compiling until it is listed above.
        let _every_one_listed = |f: &SyncFailure| match f {
            SyncFailure::Unreachable { .. }
            | SyncFailure::NotThePartner { .. }
            | SyncFailure::Refused { .. }
            | SyncFailure::BadAnswer(_)
            | SyncFailure::RepeatedPage { .. }
            | SyncFailure::AnswerTooLarge
            | SyncFailure::Busy { .. }
            | SyncFailure::Keys(_)
            | SyncFailure::ClinicClosed
            | SyncFailure::Contents(_) => (),
        };
        keys.extend(failures.into_iter().map(|f| format!("error.{}", galen_core::Error::Sync(f).code())));
        for c in galen_core::attention::Certificate::NAMES {
            keys.extend([format!("home.cert.{c}"), format!("home.cert_what.{c}")]);
        }
        let missing: Vec<&String> = keys.iter().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "en.json lacks {missing:?}");
    }

    #[test]
    fn every_document_kind_round_trips_through_its_wire_shape() {
        use galen_core::documents::*;
        // Every field distinct, so a conversion that swaps two of them fails.
        let kinds = [
            Body::Prescription(Prescription {
                issued_on: "a".into(),
                pharmacy: "b".into(),
                notes: "c".into(),
                lines: vec![RxLine {
                    medicament: "d".into(),
                    indication: "e".into(),
                    dose: "f".into(),
                    dose_unit: "g".into(),
                    route: "h".into(),
                    form: "i".into(),
                    quantity: 1,
                    frequency: 2,
                    frequency_unit: "j".into(),
                    prn: true,
                    duration: 3,
                    duration_period: "k".into(),
                    refills: 4,
                    allow_substitution: true,
                    valid_until: "l".into(),
                    comment: "m".into(),
                }],
            }),
            Body::Birth(BirthCertificate {
                mother_name: "a".into(),
                father_name: "b".into(),
                date_of_birth: "c".into(),
                country: "d".into(),
                subdivision: "e".into(),
                institution: "f".into(),
                observations: "g".into(),
                certified_on: "h".into(),
            }),
            Body::Death(DeathCertificate {
                died_at: "a".into(),
                immediate_cause: "b".into(),
                underlying_conditions: vec![UnderlyingCondition {
                    condition: "c".into(),
                    interval: 5,
                    unit: "d".into(),
                }],
                manner: "e".into(),
                place: "f".into(),
                place_details: "g".into(),
                autopsy: true,
                country: "h".into(),
                subdivision: "i".into(),
                institution: "j".into(),
                observations: "k".into(),
            }),
            Body::SickLeave(SickLeave {
                unfit_from: "a".into(),
                unfit_to: "b".into(),
                restrictions: "c".into(),
                diagnosis: "d".into(),
                diagnosis_consent: true,
            }),
            Body::Void(VoidNotice { voids: "u".into(), reason: "r".into() }),
        ];
        for body in kinds {
            let wire = commands::documents::BodyDto::from(body.clone());
            let json = serde_json::to_value(&wire).expect("serializes");
            let back: commands::documents::BodyDto = serde_json::from_value(json).expect("deserializes");
            assert_eq!(Body::from(back), body);
        }
    }

    #[test]
    fn capabilities_grant_only_what_the_ui_uses() {
        let cap: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).expect("capability parses");
        let perms: Vec<&str> = cap["permissions"].as_array().expect("list").iter().filter_map(|p| p.as_str()).collect();
        // No dialog or file permission: the shell opens file dialogs itself (dialogs.rs), so the page never
        // names a path to read or write.
        assert_eq!(perms, ["core:default"]);
    }
}
