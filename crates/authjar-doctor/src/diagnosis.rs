//! A finding from the policy catalog plus its evidence: the request that
//! showed it and the header line that was (or was not) there.

use authjar_policy::{Finding, Severity};
use serde::Serialize;

/// One problem the doctor found, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    /// The finding (id, severity, title, detail, fix).
    #[serde(flatten)]
    pub finding: Finding,
    /// The request and the header lines that show it, secrets redacted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

impl Diagnosis {
    /// A diagnosis of catalog entry `id`.
    pub fn new(id: &'static str, detail: impl Into<String>) -> Diagnosis {
        Diagnosis {
            finding: Finding::new(id, detail),
            evidence: Vec::new(),
        }
    }

    /// A diagnosis from an existing finding (e.g. the judge's).
    pub fn of(finding: Finding) -> Diagnosis {
        Diagnosis {
            finding,
            evidence: Vec::new(),
        }
    }

    /// Adds an evidence line.
    pub fn evidence(mut self, line: impl Into<String>) -> Diagnosis {
        self.evidence.push(line.into());
        self
    }

    /// Another severity.
    pub fn severity(mut self, s: Severity) -> Diagnosis {
        self.finding.severity = s;
        self
    }

    /// A fix written for this case.
    pub fn fix(mut self, fix: impl Into<String>) -> Diagnosis {
        self.finding.fix = fix.into();
        self
    }

    /// The id.
    pub fn id(&self) -> &'static str {
        self.finding.id
    }
}

/// Drops exact repeats (same id and detail, evidence merged), keeps the
/// first occurrence's place, then orders errors first.
pub fn tidy(all: Vec<Diagnosis>) -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = Vec::new();
    for d in all {
        match out
            .iter_mut()
            .find(|o| o.finding.id == d.finding.id && o.finding.detail == d.finding.detail)
        {
            Some(o) => {
                o.finding.severity = o.finding.severity.min(d.finding.severity);
                for e in d.evidence {
                    if !o.evidence.contains(&e) {
                        o.evidence.push(e);
                    }
                }
            }
            None => out.push(d),
        }
    }
    out.sort_by_key(|d| d.finding.severity);
    out
}
