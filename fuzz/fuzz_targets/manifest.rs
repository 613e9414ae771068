//! Arbitrary text as a manifest (`kubectl apply -f`): decode it, then for
//! every object decoded validate it as kube-apiserver would on create, with
//! and without defaulting, and print it as `-o yaml` does. Nothing may panic.

#![no_main]

use kubesim::api::{apply_defaults, check_create, decode, decode_each, print};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = decode(text, "STDIN");
    for obj in decode_each(text, "STDIN").into_iter().flatten() {
        let _ = check_create(&obj);
        let _ = print::to_yaml(&obj.to_value());
        let mut defaulted = obj.clone();
        apply_defaults(&mut defaulted);
        let _ = check_create(&defaulted);
        let _ = print::to_yaml(&defaulted.to_value());
    }
});
