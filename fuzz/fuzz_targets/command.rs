//! Arbitrary text as a console script (`kubesim shell`): parse every line,
//! and decode the inline manifest of every `kubectl ... -f -`. Nothing may
//! panic.

#![no_main]

use kubesim::api::{decode_each, print};
use kubesim::shell::{parse_script, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in parse_script(text) {
        let Ok(Command::Kubectl(k)) = &line.command else {
            continue;
        };
        let Some(manifest) = &k.stdin else {
            continue;
        };
        for obj in decode_each(manifest, "STDIN").into_iter().flatten() {
            let _ = print::to_yaml(&obj.to_value());
        }
    }
});
