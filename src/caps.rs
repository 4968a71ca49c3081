//! Capability names and masks: Docker's `--cap-drop`/`--cap-add` semantics
//! computed into one 64-bit mask before fork.

use caps::Capability;
use std::str::FromStr;

/// A set of capabilities as the kernel stores it (bit N = capability N).
pub type Mask = u64;

/// `net_bind_service`, `CAP_NET_BIND_SERVICE`, `Net_Bind_Service` -> index.
pub fn parse_name(text: &str) -> Result<u8, String> {
    let upper = text.trim().to_ascii_uppercase();
    let full = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    Capability::from_str(&full).map(|c| c.index()).map_err(|_| {
        format!(
            "unknown capability {text:?} (use Docker's names, e.g. NET_BIND_SERVICE or CAP_CHOWN)"
        )
    })
}

/// Names of the bits in `mask`; bits without a name (newer kernels) as numbers.
pub fn names(mask: Mask) -> Vec<String> {
    (0..64u8)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| {
            caps::all()
                .into_iter()
                .find(|c| c.index() == bit)
                .map(|c| c.to_string())
                .unwrap_or_else(|| bit.to_string())
        })
        .collect()
}

/// A comma-separated list; `ALL` is returned as `None` meaning "every one".
fn parse_list(option: &str, list: &str) -> Result<Option<Mask>, String> {
    let mut mask = 0;
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.eq_ignore_ascii_case("ALL") || item.eq_ignore_ascii_case("CAP_ALL") {
            return Ok(None);
        }
        let bit = parse_name(item).map_err(|e| format!("{option}: {e}"))?;
        mask |= 1 << bit;
    }
    Ok(Some(mask))
}

/// The capabilities the child keeps, as Docker computes them: start from
/// what hardinit holds (`held`), drop `--cap-drop` (ALL = everything), then
/// add `--cap-add` (ALL = everything held). None when neither option is
/// given: capabilities are left alone.
pub fn kept_mask(
    drop: Option<&str>,
    add: Option<&str>,
    held: Mask,
) -> Result<Option<Mask>, String> {
    if drop.is_none() && add.is_none() {
        return Ok(None);
    }
    let drop = match drop {
        Some(list) => parse_list("--cap-drop", list)?,
        None => Some(0),
    };
    let add = match add {
        Some(list) => parse_list("--cap-add", list)?,
        None => Some(0),
    };
    let after_drop = match drop {
        None => 0,
        Some(d) => held & !d,
    };
    let kept = match add {
        None => held,
        Some(a) => {
            let missing = a & !held;
            if missing != 0 {
                return Err(format!(
                    "--cap-add {}: hardinit does not hold {} itself (the runtime dropped it, e.g. docker run --cap-drop or a non-root user), so the program cannot keep it",
                    names(missing).join(","),
                    if missing.count_ones() > 1 { "them" } else { "it" }
                ));
            }
            after_drop | a
        }
    };
    Ok(Some(kept))
}

/// All capability bits the running kernel knows, from
/// `/proc/sys/kernel/cap_last_cap` (not a compile-time list: a newer kernel
/// may have more than this binary has names for).
pub fn kernel_mask(cap_last_cap: u8) -> Mask {
    if cap_last_cap >= 63 {
        u64::MAX
    } else {
        (1u64 << (cap_last_cap + 1)) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIND: Mask = 1 << 10;
    const CHOWN: Mask = 1;
    const KILL: Mask = 1 << 5;

    #[test]
    fn names_in_any_spelling() {
        for text in [
            "NET_BIND_SERVICE",
            "cap_net_bind_service",
            "Net_Bind_Service",
            " CAP_NET_BIND_SERVICE ",
        ] {
            assert_eq!(parse_name(text), Ok(10), "{text}");
        }
        assert!(parse_name("NET_BIND")
            .unwrap_err()
            .contains("unknown capability"));
    }

    type Case<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Result<Option<Mask>, &'a str>,
    );

    #[test]
    fn docker_semantics_table() {
        let held = kernel_mask(40);
        let cases: &[Case] = &[
            (None, None, Ok(None)),
            (Some("ALL"), None, Ok(Some(0))),
            (Some("all"), Some("NET_BIND_SERVICE"), Ok(Some(BIND))),
            (Some("ALL"), Some("chown,cap_kill"), Ok(Some(CHOWN | KILL))),
            (Some("CHOWN"), None, Ok(Some(held & !CHOWN))),
            (None, Some("ALL"), Ok(Some(held))),
            (Some("ALL"), Some("ALL"), Ok(Some(held))),
            (Some("ALL"), Some("BOGUS"), Err("unknown capability")),
            (Some("FOO"), None, Err("--cap-drop")),
        ];
        for (drop, add, want) in cases {
            let got = kept_mask(*drop, *add, held);
            match want {
                Ok(m) => assert_eq!(got, Ok(*m), "{drop:?} {add:?}"),
                Err(text) => assert!(got.unwrap_err().contains(text), "{drop:?} {add:?}"),
            }
        }
    }

    #[test]
    fn cannot_keep_what_is_not_held() {
        let e = kept_mask(Some("ALL"), Some("NET_ADMIN"), BIND).unwrap_err();
        assert!(
            e.contains("CAP_NET_ADMIN") && e.contains("does not hold"),
            "{e}"
        );
    }

    #[test]
    fn mask_names_include_unknown_bits() {
        assert_eq!(
            names(BIND | (1 << 50)),
            vec!["CAP_NET_BIND_SERVICE".to_string(), "50".to_string()]
        );
        assert_eq!(kernel_mask(40), 0x1ff_ffff_ffff);
    }
}
