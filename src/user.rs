//! `--user USER[:GROUP]` and `--groups`, resolved from the image's own
//! /etc/passwd and /etc/group. No NSS: the binary is static, and the image's
//! files are the truth inside a container.

use std::path::Path;

/// Who the child becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    /// From passwd; None for a numeric uid that has no entry.
    pub home: Option<String>,
    /// The uid has no passwd entry (allowed for numbers, reported by --debug).
    pub unknown_uid: bool,
}

struct PasswdEntry {
    name: String,
    uid: u32,
    gid: u32,
    home: String,
}

struct GroupEntry {
    name: String,
    gid: u32,
}

fn read_table(path: &Path) -> Result<String, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        // An image without the file (FROM scratch) still works with numbers.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn passwd_entries(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

fn group_entries(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
            })
        })
        .collect()
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_id(s: &str, what: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|n| *n != u32::MAX)
        .ok_or_else(|| format!("{what} {s:?} is out of range"))
}

fn resolve_group(spec: &str, groups: &[GroupEntry], option: &str) -> Result<u32, String> {
    if is_number(spec) {
        return parse_id(spec, &format!("{option}: gid"));
    }
    groups
        .iter()
        .find(|g| g.name == spec)
        .map(|g| g.gid)
        .ok_or_else(|| format!("{option}: unknown group {spec:?} (not in /etc/group)"))
}

/// Resolve `--user` and `--groups` against the files under `root` ("/" in
/// production, a fixture directory in tests).
pub fn resolve(user: &str, groups: Option<&str>, root: &Path) -> Result<Identity, String> {
    let passwd = passwd_entries(&read_table(&root.join("etc/passwd"))?);
    let group = group_entries(&read_table(&root.join("etc/group"))?);
    let (user_part, group_part) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    if user_part.is_empty() || group_part == Some("") || user.matches(':').count() > 1 {
        return Err(format!(
            "--user {user:?}: expected USER or USER:GROUP (names or numbers)"
        ));
    }
    let (uid, mut gid, home, unknown_uid) = if is_number(user_part) {
        let uid = parse_id(user_part, "--user: uid")?;
        match passwd.iter().find(|p| p.uid == uid) {
            Some(p) => (uid, p.gid, Some(p.home.clone()), false),
            None => (uid, uid, None, true),
        }
    } else {
        let p = passwd
            .iter()
            .find(|p| p.name == user_part)
            .ok_or_else(|| format!("--user: unknown user {user_part:?} (not in /etc/passwd)"))?;
        (p.uid, p.gid, Some(p.home.clone()), false)
    };
    if let Some(g) = group_part {
        gid = resolve_group(g, &group, "--user")?;
    }
    let groups = match groups {
        None => Vec::new(),
        Some(list) => {
            let mut out = Vec::new();
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let g = resolve_group(item, &group, "--groups")?;
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            out
        }
    };
    Ok(Identity {
        uid,
        gid,
        groups,
        home,
        unknown_uid,
    })
}

/// `--groups` without `--user`: the current ids, new supplementary groups.
pub fn resolve_groups_only(
    list: &str,
    uid: u32,
    gid: u32,
    root: &Path,
) -> Result<Identity, String> {
    let mut id = resolve(&format!("{uid}:{gid}"), Some(list), root)?;
    id.unknown_uid = false;
    id.home = None;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("hardinit-user-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:10001:10001::/app:/sbin/nologin\nbroken line\nweb:x:33:33:www:/var/www:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("etc/group"),
            "root:x:0:\napp:x:10001:\nstaff:x:50:app\nwww-data:x:33:\n",
        )
        .unwrap();
        dir
    }

    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Result<(u32, u32, Vec<u32>, bool), &'a str>,
    );

    #[test]
    fn resolves_names_numbers_and_groups() {
        let root = fixture();
        let cases: &[Case] = &[
            ("app", None, Ok((10001, 10001, vec![], false))),
            ("10001", None, Ok((10001, 10001, vec![], false))),
            ("app:staff", None, Ok((10001, 50, vec![], false))),
            (
                "app:33",
                Some("staff,www-data,50"),
                Ok((10001, 33, vec![50, 33], false)),
            ),
            ("4242", None, Ok((4242, 4242, vec![], true))),
            ("4242:50", None, Ok((4242, 50, vec![], true))),
            ("nobody", None, Err("unknown user \"nobody\"")),
            ("app:nogroup", None, Err("unknown group \"nogroup\"")),
            ("app", Some("wheel"), Err("--groups: unknown group")),
            ("app:", None, Err("expected USER")),
            (":50", None, Err("expected USER")),
            ("a:b:c", None, Err("expected USER")),
            ("99999999999", None, Err("out of range")),
        ];
        for (user, groups, want) in cases {
            let got = resolve(user, *groups, &root);
            match want {
                Ok((uid, gid, g, unknown)) => {
                    let id = got.unwrap_or_else(|e| panic!("{user}: {e}"));
                    assert_eq!(
                        (id.uid, id.gid, &id.groups, id.unknown_uid),
                        (*uid, *gid, g, *unknown),
                        "{user}"
                    );
                }
                Err(text) => {
                    let e = got.unwrap_err();
                    assert!(e.contains(text), "{user}: {e}");
                }
            }
        }
        assert_eq!(
            resolve("app", None, &root).unwrap().home.as_deref(),
            Some("/app")
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn image_without_passwd_takes_numbers() {
        let root = std::path::Path::new("/nonexistent-hardinit-root");
        assert_eq!(resolve("10001", None, root).unwrap().gid, 10001);
        assert!(resolve("app", None, root).is_err());
    }
}
