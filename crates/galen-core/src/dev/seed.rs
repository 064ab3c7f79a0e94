//! Synthetic patients for demos and benchmarks: names from several locales, plausible dates of birth and
//! phone numbers, deterministic for a given seed. Batched in large transactions, so a million takes minutes.

use crate::audit::table::{self as audit, Outcome};
use crate::clinic::Clinic;
use crate::error::Error;
use crate::mrn;
use crate::patients::model::{Allergy, Clinical, Demographics, Sex};
use crate::patients::{table, validate};
use crate::permissions::Action;
use crate::session::Session;

struct Locale {
    given_female: &'static [&'static str],
    given_male: &'static [&'static str],
    family: &'static [&'static str],
    phone_prefix: &'static str,
}

const LOCALES: [Locale; 6] = [
    Locale {
        given_female: &["Ana", "Maria", "Beatriz", "Inês", "Joana", "Mariana", "Sofia", "Leonor", "Carolina", "Rita"],
        given_male: &["João", "Pedro", "Tiago", "Rui", "Miguel", "Duarte", "Gonçalo", "Afonso", "Tomás", "Nuno"],
        family: &[
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Martins",
            "Gonçalves",
            "Albuquerque",
            "Magalhães",
            "Conceição",
            "Araújo",
            "Simões",
        ],
        phone_prefix: "+351 9",
    },
    Locale {
        given_female: &["Lucía", "Carmen", "Sofía", "Martina", "Elena", "Paula", "Alba", "Noelia", "Pilar", "Irene"],
        given_male: &["Javier", "Alejandro", "Pablo", "Álvaro", "Sergio", "Jorge", "Raúl", "Andrés", "Íñigo", "Diego"],
        family: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Muñoz",
            "Jiménez",
            "Álvarez",
            "Núñez",
            "Ibáñez",
        ],
        phone_prefix: "+34 6",
    },
    Locale {
        given_female: &["Emily", "Olivia", "Charlotte", "Amelia", "Grace", "Sophie", "Hannah", "Chloe", "Lucy", "Ella"],
        given_male: &["James", "Oliver", "Harry", "George", "Thomas", "William", "Jack", "Samuel", "Daniel", "Owen"],
        family: &[
            "Smith", "Jones", "Williams", "Brown", "Taylor", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
            "Roberts", "Walker", "Wright", "Robinson",
        ],
        phone_prefix: "+44 7",
    },
    Locale {
        given_female: &["Anna", "Lena", "Leonie", "Hannah", "Lea", "Johanna", "Sophie", "Marie", "Jana", "Katharina"],
        given_male: &["Lukas", "Jonas", "Felix", "Maximilian", "Paul", "Leon", "Jürgen", "Stefan", "Tobias", "Florian"],
        family: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Größer",
        ],
        phone_prefix: "+49 15",
    },
    Locale {
        given_female: &["Μαρία", "Ελένη", "Αικατερίνη", "Βασιλική", "Σοφία", "Αγγελική", "Δήμητρα", "Ιωάννα"],
        given_male: &["Γεώργιος", "Ιωάννης", "Κωνσταντίνος", "Δημήτριος", "Νικόλαος", "Παναγιώτης", "Αλέξανδρος"],
        family: &[
            "Παπαδόπουλος",
            "Παπαδοπούλου",
            "Γεωργίου",
            "Οικονόμου",
            "Νικολάου",
            "Παπανικολάου",
            "Βασιλείου",
            "Δημητρίου",
            "Ιωάννου",
            "Αθανασίου",
        ],
        phone_prefix: "+30 69",
    },
    Locale {
        given_female: &["Fatima", "Aisha", "Layla", "Mariam", "Noor", "Yasmin", "Zainab", "Huda", "Salma", "Amira"],
        given_male: &["Mohammed", "Ahmed", "Omar", "Youssef", "Ali", "Hassan", "Khalid", "Ibrahim", "Tariq", "Karim"],
        family: &[
            "Al-Sayed", "Haddad", "Khalil", "Mansour", "Nasser", "Saleh", "Hamdan", "Aziz", "Farouk", "Rahman",
            "El-Amin", "Qasim",
        ],
        phone_prefix: "+971 5",
    },
];

/// SplitMix64: small, fast and deterministic; this is test data, not cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The `i`-th synthetic patient for `seed`: the same inputs always give the same person.
pub fn synthetic(seed: u64, i: u64, today_year: i32) -> (Demographics, Clinical) {
    let mut rng = Rng(seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
    let locale = &LOCALES[rng.below(LOCALES.len() as u64) as usize];
    let female = rng.below(2) == 0;
    let given_pool = if female { locale.given_female } else { locale.given_male };
    let given = if rng.below(4) == 0 {
        format!("{} {}", rng.pick(given_pool), rng.pick(given_pool))
    } else {
        rng.pick(given_pool).to_owned()
    };
    let family = if rng.below(3) == 0 {
        format!("{} {}", rng.pick(locale.family), rng.pick(locale.family))
    } else {
        rng.pick(locale.family).to_owned()
    };
    let age = rng.below(95) as i32;
    let dob = format!("{:04}-{:02}-{:02}", today_year - age - 1, 1 + rng.below(12), 1 + rng.below(28));
    let phone = format!("{}{:08}", locale.phone_prefix, rng.below(100_000_000));
    let national_id =
        if rng.below(10) < 7 { format!("{:09}{}", seed % 7 * 100_000_000 + i, rng.below(10)) } else { String::new() };
    let demographics = Demographics {
        given_names: given,
        family_name: family,
        sex: if female { Sex::Female } else { Sex::Male },
        date_of_birth: dob,
        estimated_age: None,
        national_id,
        phones: vec![phone],
        consent_share: rng.below(2) == 0,
        ..Default::default()
    };
    let allergies = if rng.below(8) == 0 {
        vec![Allergy { substance: "Penicillin".into(), severity: "severe".into(), reaction: "Rash".into() }]
    } else {
        Vec::new()
    };
    (demographics, Clinical { allergies, pregnancy_status: "unknown".into(), ..Default::default() })
}

/// Adds `count` synthetic patients (needs permission to register patients). Returns how many were added.
/// Rows are written in transactions of 10,000; one audit row records the whole run.
pub fn seed(clinic: &Clinic, session: &Session, count: u64, seed: u64) -> Result<u64, Error> {
    let actor = clinic.authorize(session, Action::PatientCreate, None)?;
    let year = clinic.now().year();
    let now = clinic.now_rfc3339();
    let prefix = crate::settings::table::mrn_prefix(clinic.store().conn())?;
    let seq = table::last_sequence(clinic.store().conn(), &prefix)?;
    let mut done = 0;
    while done < count {
        let batch = (count - done).min(10_000);
        clinic.store().write(|tx| {
            for i in done..done + batch {
                let (d, c) = synthetic(seed, seq + i + 1, year);
                let (d, dob, estimated) = validate::demographics(&d, clinic.now().date()).map_err(Error::Invalid)?;
                let code = mrn::format(&prefix, seq + i + 1);
                table::insert(tx, &code, &d, &dob, estimated, &c, &now)?;
            }
            Ok(())
        })?;
        done += batch;
    }
    clinic
        .store()
        .write(|tx| audit::record(tx, &now, &actor, "dev.seed", ("patients", &count.to_string()), Outcome::Ok))?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_patients_and_another_seed_does_not() {
        let a: Vec<_> = (0..50).map(|i| synthetic(7, i, 2026).0).collect();
        let b: Vec<_> = (0..50).map(|i| synthetic(7, i, 2026).0).collect();
        let c: Vec<_> = (0..50).map(|i| synthetic(8, i, 2026).0).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let today = time::macros::date!(2026 - 11 - 21);
        for d in &a {
            validate::demographics(d, today).expect("every synthetic patient is valid");
        }
    }
}
