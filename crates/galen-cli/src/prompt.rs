//! Asking for values and secrets: from the terminal without echo, or one per line from a pipe.

use anyhow::{bail, Context, Result};
use galen_core::Sensitive;
use std::io::{BufRead, IsTerminal, Write};

#[derive(Debug)]
pub struct Input {
    interactive: bool,
    lines: std::io::Lines<std::io::StdinLock<'static>>,
}

impl Input {
    pub fn new() -> Self {
        let stdin = std::io::stdin();
        Self { interactive: stdin.is_terminal(), lines: stdin.lock().lines() }
    }

    fn next_line(&mut self, label: &str) -> Result<String> {
        match self.lines.next() {
            Some(line) => Ok(line.context("reading standard input")?),
            None => bail!("standard input ended before \"{}\" was given", label.trim_end_matches([':', ' '])),
        }
    }

    /// `given` if the user passed it as a flag, otherwise asked for.
    pub fn value_or(&mut self, label: &str, given: Option<String>) -> Result<String> {
        if let Some(v) = given {
            return Ok(v);
        }
        if self.interactive {
            print!("{label}");
            std::io::stdout().flush().ok();
        }
        let v = self.next_line(label)?.trim().to_owned();
        if v.is_empty() {
            bail!("{} must not be empty", label.trim_end_matches([':', ' ']));
        }
        Ok(v)
    }

    /// At a terminal, shows `label` and waits for Enter; whether it did (a pipe is not waited on).
    pub fn wait_for_enter(&mut self, label: &str) -> Result<bool> {
        if !self.interactive {
            return Ok(false);
        }
        println!("{label}");
        self.next_line(label)?;
        Ok(true)
    }

    pub fn secret(&mut self, label: &str) -> Result<Sensitive<String>> {
        let s = if self.interactive {
            rpassword::prompt_password(label).context("reading from the terminal")?
        } else {
            self.next_line(label)?
        };
        Ok(Sensitive::new(s))
    }
}
