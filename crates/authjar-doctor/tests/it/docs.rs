//! `docs/doctor.md` stays complete: a section for every finding id the
//! doctor can report, only catalog ids in its mapping table, and a row for
//! every item of the post's three sections.

use authjar_doctor::report::DOCTOR_IDS;
use authjar_policy::CATALOG;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/doctor.md");
    std::fs::read_to_string(path).unwrap()
}

fn headings(doc: &str) -> Vec<&str> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("#### `")?.strip_suffix('`'))
        .collect()
}

#[test]
fn every_doctor_finding_has_a_section_and_every_section_a_finding() {
    let doc = doc();
    let sections = headings(&doc);
    for id in DOCTOR_IDS {
        assert!(
            sections.contains(id),
            "docs/doctor.md has no section for {id}"
        );
    }
    for s in &sections {
        assert!(
            DOCTOR_IDS.contains(s),
            "docs/doctor.md documents unknown id {s}"
        );
    }
}

#[test]
fn the_mapping_table_names_catalog_ids_for_each_of_the_posts_items() {
    let doc = doc();
    let rows: Vec<&str> = doc
        .lines()
        .filter(|l| {
            l.starts_with("| Pre-Deploy")
                || l.starts_with("| Production Fails")
                || l.starts_with("| When Things Break")
        })
        .collect();
    let count = |prefix: &str| rows.iter().filter(|r| r.starts_with(prefix)).count();
    assert_eq!(count("| Pre-Deploy Checklist"), 10);
    assert_eq!(count("| Production Fails"), 3);
    assert_eq!(count("| When Things Break"), 10);
    for row in &rows {
        let findings = row.rsplit('|').nth(1).unwrap();
        let ids: Vec<&str> = findings.split('`').skip(1).step_by(2).collect();
        if row.contains("Coffee") {
            continue;
        }
        assert!(!ids.is_empty(), "no finding for {row}");
        for id in ids {
            assert!(
                CATALOG.iter().any(|e| e.id == id) && DOCTOR_IDS.contains(&id),
                "{id} in {row} is not a doctor finding"
            );
        }
    }
}
