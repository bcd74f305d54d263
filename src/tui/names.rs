//! Names that fit: a swept copy `mcmc[inst.temperature=0.71,inst.instance=2]`
//! is shown under its stage `mcmc` by what differs between the copies
//! (`T=0.71 inst=2`), with parameter names abbreviated; the full name stays in
//! the Detail view.

use std::collections::HashMap;

/// How a stage appears in the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The stage name before any `[...]`.
    pub base: String,
    /// What tells this copy from its siblings (`T=0.71 inst=2`); empty for a
    /// stage that is not copied.
    pub differs: String,
}

/// Splits `base[a.p=1,b.q=x]` into `base` and its assignments.
fn parse(name: &str) -> (&str, Vec<(&str, &str)>) {
    let Some((base, rest)) = name.split_once('[') else { return (name, Vec::new()) };
    let inner = rest.strip_suffix(']').unwrap_or(rest);
    let pairs = inner.split(',').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect();
    (base, pairs)
}

/// The short name of a swept parameter: `inst.temperature` is `T`.
fn abbreviate(key: &str) -> &str {
    let param = key.rsplit_once('.').map_or(key, |(_, p)| p);
    match param {
        "temperature" => "T",
        "instance" => "inst",
        "delta" => "Δ",
        "samples" => "S",
        "trajectories" => "traj",
        "chains" => "chains",
        other => other,
    }
}

/// Labels for all stages, in order: copies of one stage show only the swept
/// values that vary between them.
pub fn labels(names: &[&str]) -> Vec<Label> {
    let parsed: Vec<(&str, Vec<(&str, &str)>)> = names.iter().map(|n| parse(n)).collect();
    let mut values: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for (base, pairs) in &parsed {
        for (k, v) in pairs {
            let seen = values.entry((base, k)).or_default();
            if !seen.contains(v) {
                seen.push(v);
            }
        }
    }
    parsed
        .iter()
        .map(|(base, pairs)| {
            let varying: Vec<&(&str, &str)> = pairs.iter().filter(|(k, _)| values[&(*base, *k)].len() > 1).collect();
            // Two keys with one short name (`a.temperature`, `b.temperature`) keep their full keys.
            let clash = |k: &str| varying.iter().filter(|(o, _)| abbreviate(o) == abbreviate(k)).count() > 1;
            let shown = if varying.is_empty() && !pairs.is_empty() { pairs.iter().collect() } else { varying.clone() };
            let differs: Vec<String> =
                shown.iter().map(|(k, v)| format!("{}={v}", if clash(k) { k } else { abbreviate(k) })).collect();
            Label { base: base.to_string(), differs: differs.join(" ") }
        })
        .collect()
}

/// The list order: stages in order, except that the copies of a swept stage
/// (two or more) follow its first copy under one heading. Each entry is the
/// stage index, with `Some(heading)` on the first copy of a group.
pub fn grouped(labels: &[Label]) -> Vec<(Option<String>, usize)> {
    let copies = |base: &str| labels.iter().filter(|l| l.base == base && !l.differs.is_empty()).count();
    let mut out = Vec::with_capacity(labels.len());
    let mut placed = vec![false; labels.len()];
    for (i, label) in labels.iter().enumerate() {
        if placed[i] {
            continue;
        }
        if label.differs.is_empty() || copies(&label.base) < 2 {
            out.push((None, i));
            placed[i] = true;
            continue;
        }
        out.push((Some(label.base.clone()), i));
        placed[i] = true;
        for (j, other) in labels.iter().enumerate().skip(i + 1) {
            if !placed[j] && other.base == label.base && !other.differs.is_empty() {
                out.push((None, j));
                placed[j] = true;
            }
        }
    }
    out
}

/// `mcmc · T=0.71`, or just the name.
pub fn one_line(label: &Label) -> String {
    if label.differs.is_empty() {
        label.base.clone()
    } else {
        format!("{} · {}", label.base, label.differs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_show_what_differs() {
        let names = [
            "inst[inst.temperature=0.71,inst.instance=1]",
            "inst[inst.temperature=0.8,inst.instance=1]",
            "inst[inst.temperature=0.71,inst.instance=2]",
            "compare[inst.temperature=0.8,inst.instance=2]",
            "compare[inst.temperature=0.8,inst.instance=1]",
            "theory",
            "solo[inst.temperature=0.8]",
        ];
        let got: Vec<String> = labels(&names).iter().map(one_line).collect();
        assert_eq!(
            got,
            [
                "inst · T=0.71 inst=1",
                "inst · T=0.8 inst=1",
                "inst · T=0.71 inst=2",
                "compare · inst=2",
                "compare · inst=1",
                "theory",
                "solo · T=0.8",
            ]
        );
    }

    #[test]
    fn copies_are_grouped_after_their_first() {
        let names = ["a[a.x=1]", "b", "a[a.x=2]", "c[a.x=1]"];
        let order = grouped(&labels(&names));
        assert_eq!(order, [(Some("a".to_string()), 0), (None, 2), (None, 1), (None, 3)]);
    }

    #[test]
    fn clashing_short_names_keep_their_stage() {
        let names = [
            "c[a.temperature=1,b.temperature=2]",
            "c[a.temperature=3,b.temperature=2]",
            "c[a.temperature=3,b.temperature=4]",
        ];
        let got: Vec<String> = labels(&names).iter().map(|l| l.differs.clone()).collect();
        assert_eq!(
            got,
            ["a.temperature=1 b.temperature=2", "a.temperature=3 b.temperature=2", "a.temperature=3 b.temperature=4"]
        );
    }
}
