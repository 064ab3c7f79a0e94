//! The bundled formulary (assets/formulary/essential-medicines.tsv): names, strengths and forms for the
//! prescription editor's autocomplete. Free text stays allowed.

use std::sync::OnceLock;

/// A medicine of the bundled list (WHO essential medicines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medicine {
    /// Its international non-proprietary name.
    pub name: &'static str,
    /// Its strength, e.g. `500 mg`.
    pub strength: &'static str,
    /// Its form, e.g. `capsule`.
    pub form: &'static str,
    /// A class such as "penicillin", for allergy warnings across a family of medicines.
    pub class: &'static str,
}

static DATA: &str = include_str!("../../../../assets/formulary/essential-medicines.tsv");

/// Every medicine in the list.
pub fn all() -> &'static [Medicine] {
    static LIST: OnceLock<Vec<Medicine>> = OnceLock::new();
    LIST.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some(Medicine { name: f.next()?, strength: f.next()?, form: f.next()?, class: f.next().unwrap_or("") })
            })
            .collect()
    })
}

/// Medicines whose name starts with (or contains a word starting with) `prefix`, accent- and case-insensitively.
pub fn search(prefix: &str, limit: usize) -> Vec<&'static Medicine> {
    let p = crate::text::fold(prefix.trim());
    if p.is_empty() {
        return Vec::new();
    }
    all()
        .iter()
        .filter(|m| crate::text::fold(m.name).split([' ', '-', '/']).any(|w| w.starts_with(&p)))
        .take(limit)
        .collect()
}

/// Whether a prescribed medicament (folded) belongs to the class an allergy names (folded), e.g. amoxicillin
/// and "penicillin".
pub(crate) fn same_class(medicament: &str, allergy: &str) -> bool {
    all().iter().any(|m| {
        !m.class.is_empty() && crate::text::fold(m.class) == allergy && medicament.contains(&crate::text::fold(m.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formulary_loads_and_autocompletes() {
        assert!(all().len() >= 60, "{} medicines", all().len());
        assert!(search("amox", 5).iter().any(|m| m.name == "Amoxicillin"));
        // Case and accents in what is typed do not matter.
        let names = |typed: &str| search(typed, 5).iter().map(|m| m.name).collect::<Vec<_>>();
        assert!(!names("amox").is_empty());
        assert_eq!(names("AMOX"), names("amox"));
        assert_eq!(names("Ámóx"), names("amox"));
        assert!(same_class("amoxicillin 500 mg", "penicillin"), "amoxicillin is a penicillin");
        assert!(!same_class("paracetamol", "penicillin"));
    }
}
