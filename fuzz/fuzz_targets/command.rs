//! Arbitrary text as a console script (`kubesim shell`): parse every line,
//! and decode the inline manifest of every `kubectl ... -f -` (also the
//! first stage of a pipeline), and run every pipeline's filters over the
//! script's text. Nothing may panic.

#![no_main]

use kubesim::api::{decode_each, print};
use kubesim::shell::{parse_script, Command};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in parse_script(text) {
        // A pipeline's filters over the script itself as input.
        if let Ok(Command::Pipeline { filters, .. }) = &line.command {
            let _ = kubesim::shell::pipe::run(filters, text);
        }
        let Ok(Command::Kubectl(k)) = line.command.as_ref().map(Command::first) else {
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
