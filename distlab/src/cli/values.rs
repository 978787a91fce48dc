//! The values of options: durations, probabilities, a swept parameter and its values, each
//! with its range and an error message that names what is wrong.

/// A swept parameter and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Which knob.
    pub name: ParamName,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// The knobs a sweep can turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamName {
    /// Loss probability.
    Drop,
    /// Number of clients.
    Clients,
    /// Number of servers.
    Servers,
    /// Mean seconds between partitions.
    PartitionEvery,
    /// Mean seconds between crashes.
    CrashEvery,
}

impl ParamName {
    /// The name on the command line and in the CSV header.
    pub fn name(self) -> &'static str {
        match self {
            ParamName::Drop => "drop",
            ParamName::Clients => "clients",
            ParamName::Servers => "servers",
            ParamName::PartitionEvery => "partition-every",
            ParamName::CrashEvery => "crash-every",
        }
    }
}

/// Parses `NAME=V1,V2,...`.
pub fn parse_param(text: &str) -> Result<Param, String> {
    let (name, values) = text
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=V1,V2,... but got {text:?}"))?;
    let name = match name.trim() {
        "drop" => ParamName::Drop,
        "clients" => ParamName::Clients,
        "servers" => ParamName::Servers,
        "partition-every" => ParamName::PartitionEvery,
        "crash-every" => ParamName::CrashEvery,
        other => {
            return Err(format!(
                "unknown parameter {other:?}: use drop, clients, servers, partition-every or crash-every"
            ));
        }
    };
    let values = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("{v:?} is not a number"))
        })
        .collect::<Result<Vec<f64>, String>>()?;
    for &v in &values {
        let ok = match name {
            ParamName::Drop => (0.0..=1.0).contains(&v),
            ParamName::Clients => (1.0..=64.0).contains(&v) && v.fract() == 0.0,
            ParamName::Servers => (1.0..=9.0).contains(&v) && v.fract() == 0.0,
            ParamName::PartitionEvery | ParamName::CrashEvery => (0.0..=MAX_SECONDS).contains(&v),
        };
        if !ok {
            let range = match name {
                ParamName::Drop => "a probability from 0 to 1".to_owned(),
                ParamName::Clients => "a whole number from 1 to 64".to_owned(),
                ParamName::Servers => "a whole number from 1 to 9".to_owned(),
                ParamName::PartitionEvery | ParamName::CrashEvery => {
                    format!("0 to {MAX_SECONDS} seconds (24 hours)")
                }
            };
            return Err(format!(
                "{v} is out of range for {} (as for --{}: {range})",
                name.name(),
                name.name()
            ));
        }
    }
    Ok(Param { name, values })
}

/// The longest duration any option (or swept interval) takes: 24 hours, in seconds.
pub const MAX_SECONDS: f64 = 24.0 * 3600.0;

/// Parses `10s`, `500ms`, `2m` or a bare number of seconds, from 0 to 24 hours.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} in {text:?}: use ms, s or m")),
    };
    if !(0.0..=MAX_SECONDS).contains(&seconds) {
        return Err(format!("{text:?} is out of range (0 to 24 hours)"));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// Parses a time limit: a duration as for [`parse_duration`], more than zero.
pub fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    let timeout = parse_duration(text)?;
    if timeout.is_zero() {
        return Err(format!(
            "{text:?} is no time at all: a time limit must be more than 0"
        ));
    }
    Ok(timeout)
}

/// Parses a probability between 0 and 1.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a probability between 0 and 1")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_params_and_durations() {
        assert_eq!(
            parse_param("drop=0,0.1"),
            Ok(Param {
                name: ParamName::Drop,
                values: vec![0.0, 0.1]
            })
        );
        assert!(parse_param("drop=2").is_err());
        assert!(parse_param("speed=1").is_err());
        assert!(parse_param("clients=1.5").is_err());
        // Swept intervals have the options' limits (they panicked `Duration` before).
        for bad in [
            "crash-every=1e20",
            "partition-every=1e20",
            "crash-every=86401",
        ] {
            let err = parse_param(bad).expect_err(bad);
            assert!(
                err.contains("out of range for") && err.contains("24 hours"),
                "{err}"
            );
        }
        assert!(parse_param("crash-every=nan").is_err());
        assert!(parse_param("partition-every=-1").is_err());
        assert!(parse_param("crash-every=0,86400").is_ok());
        assert_eq!(
            parse_duration("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("2"), Ok(std::time::Duration::from_secs(2)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_fraction("1.1").is_err());
        assert_eq!(
            parse_timeout("20m"),
            Ok(std::time::Duration::from_secs(1200))
        );
        assert!(parse_timeout("0s").is_err());
    }
}
