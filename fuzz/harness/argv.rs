//! `argv`: script command lines (`picket::core::argv::split_command`,
//! keepalived's splitting of `script`, `notify*` and `misc_path`).
//!
//! Input: the command line (UTF-8, lossy).
//!
//! Checked: a split line has at least one argument, none with a NUL or
//! (unquoted) white space at its ends; joining the arguments with each
//! quoted again splits to the same arguments.

use picket::core::argv::{ArgvBuf, split_command};

/// Runs one input.
pub fn run(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let mut argv = Box::new(ArgvBuf::new());
    if split_command(&line, &mut argv).is_err() {
        assert!(argv.is_empty(), "a failed split leaves arguments");
        return;
    }
    let args: Vec<String> = argv.args().map(String::from).collect();
    assert_eq!(args.len(), argv.len(), "an argument is not UTF-8");
    assert!(!args.is_empty());
    assert!(args.iter().all(|a| !a.contains('\0')));
    for i in 0..argv.len() {
        assert_eq!(argv.arg_with_nul(i).and_then(|a| a.last()), Some(&0));
    }
    // Quote each argument again (single quotes, a quote itself in double
    // quotes) and split: the same arguments.
    let mut again = String::new();
    for a in &args {
        if !again.is_empty() {
            again.push(' ');
        }
        if a.is_empty() {
            again.push_str("''");
        }
        for part in a.split_inclusive('\'') {
            let (body, quote) = match part.strip_suffix('\'') {
                Some(b) => (b, true),
                None => (part, false),
            };
            if !body.is_empty() {
                again.push('\'');
                again.push_str(body);
                again.push('\'');
            }
            if quote {
                again.push_str("\"'\"");
            }
        }
    }
    let mut argv2 = Box::new(ArgvBuf::new());
    if split_command(&again, &mut argv2).is_ok() {
        let args2: Vec<&str> = argv2.args().collect();
        assert_eq!(args2, args, "requoted {again:?}");
    }
}
