#![allow(clippy::disallowed_methods)] // real containers: real time
//! Test clusters in containers: the image `deploy/build-image.sh` builds from the `distlab`
//! binary of this build, and projects of `deploy/compose.yaml`, each under its own name, on
//! ports of 127.0.0.1 chosen free; nodes cut off with `docker network disconnect`, killed
//! with `docker kill` and restarted with `docker start`. Everything made is removed on drop
//! (`down -v --remove-orphans`, `docker rmi`), also when the test fails.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::workload::healthz;

/// The compose file.
pub const COMPOSE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/compose.yaml");
const BUILD_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/build-image.sh");

/// Runs `program args`; its stdout, or `Err` with its stderr when it fails.
pub fn run(program: &str, args: &[&str], env: &[(String, String)]) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args);
    // The test's settings only: none of the caller's compose settings.
    for name in ["COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PROJECT_NAME"] {
        command.env_remove(name);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let out = command.output().map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The compose tool (`docker compose` or `docker-compose`), or why containers cannot run here.
pub fn compose_tool() -> Result<Vec<String>, String> {
    run("docker", &["info", "--format", "{{.ServerVersion}}"], &[])
        .map_err(|e| format!("docker is not usable here ({e})"))?;
    if run("docker", &["compose", "version"], &[]).is_ok() {
        return Ok(vec!["docker".into(), "compose".into()]);
    }
    run("docker-compose", &["version"], &[])
        .map(|_| vec!["docker-compose".into()])
        .map_err(|e| format!("neither docker compose nor docker-compose runs here ({e})"))
}

/// The image, built for this test from this build's binary; removed on drop.
pub struct Image {
    /// Its tag.
    pub tag: String,
}

impl Image {
    /// Builds the image as `tag` with `deploy/build-image.sh --binary`; prints its size.
    pub fn build(tag: &str) -> Result<Image, String> {
        let began = Instant::now();
        let binary = env!("CARGO_BIN_EXE_distlab");
        let args = [BUILD_SCRIPT, "--binary", binary, "--tag", tag];
        let image = Image { tag: tag.into() };
        let said = run("bash", &args, &[])?;
        println!("{} in {:.1} s", said.trim(), began.elapsed().as_secs_f64());
        Ok(image)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = run("docker", &["rmi", "--force", &self.tag], &[]);
    }
}

/// A port of 127.0.0.1 that nothing listens on now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// One compose project: some services of `deploy/compose.yaml`, brought up by [`Cluster::up`]
/// and down with their volumes on drop.
pub struct Cluster {
    compose: Vec<String>,
    project: String,
    env: Vec<(String, String)>,
    /// Each service, with its port on 127.0.0.1.
    services: Vec<(String, u16)>,
    /// Each service's container, once up (a killed container keeps its id when started
    /// again).
    ids: Vec<(String, String)>,
    /// The secret file, and where it lives.
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Brings up `services` (each published on a free port, through the variable of the
    /// compose file named in `ports`) of `profile`, from `image`, as project `project`, and
    /// waits until every one of them answers `/healthz`.
    pub fn up(
        compose: &[String],
        project: &str,
        image: &Image,
        profile: Option<&str>,
        services: &[(&str, &str)],
    ) -> Result<Cluster, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let secret = dir.path().join("cluster.key");
        std::fs::write(&secret, "a cluster secret for the deploy test\n")
            .map_err(|e| e.to_string())?;
        // The servers run as nobody: the file must be readable by them.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        let mut env = vec![
            ("DISTLAB_IMAGE".to_owned(), image.tag.clone()),
            (
                "DISTLAB_SECRET_FILE".to_owned(),
                secret.display().to_string(),
            ),
        ];
        if let Some(profile) = profile {
            env.push(("COMPOSE_PROFILES".to_owned(), profile.to_owned()));
        }
        let mut ports = Vec::new();
        for (service, variable) in services {
            let port = free_port()?;
            env.push((variable.to_string(), port.to_string()));
            ports.push((service.to_string(), port));
        }
        let mut cluster = Cluster {
            compose: compose.to_vec(),
            project: project.to_owned(),
            env,
            services: ports,
            ids: Vec::new(),
            dir,
        };
        let names: Vec<&str> = services.iter().map(|(s, _)| *s).collect();
        cluster.compose(&[&["up", "--detach"][..], &names].concat())?;
        for name in names {
            let id = cluster.container(name)?;
            cluster.ids.push((name.to_owned(), id));
        }
        for (service, _) in services {
            cluster.wait_healthy(service, Duration::from_secs(30))?;
        }
        Ok(cluster)
    }

    /// Runs the compose tool on this project.
    pub fn compose(&self, args: &[&str]) -> Result<String, String> {
        let mut all: Vec<&str> = self.compose[1..].iter().map(String::as_str).collect();
        all.extend(["--file", COMPOSE_FILE, "--project-name", &self.project]);
        all.extend(args);
        run(&self.compose[0], &all, &self.env)
    }

    /// The secret file.
    pub fn secret_file(&self) -> PathBuf {
        self.dir.path().join("cluster.key")
    }

    /// The address the host reaches `service` at.
    pub fn addr(&self, service: &str) -> String {
        let port = self.services.iter().find(|(s, _)| s == service);
        format!("127.0.0.1:{}", port.map_or(0, |(_, p)| *p))
    }

    /// The id of `service`'s container.
    pub fn container(&self, service: &str) -> Result<String, String> {
        if let Some((_, id)) = self.ids.iter().find(|(s, _)| s == service) {
            return Ok(id.clone());
        }
        let id = self.compose(&["ps", "--quiet", service])?;
        let id = id.trim();
        if id.is_empty() {
            return Err(format!("{service} has no container"));
        }
        Ok(id.to_owned())
    }

    /// The project's network.
    fn network(&self) -> String {
        format!("{}_default", self.project)
    }

    /// Waits until `service` answers `/healthz` from the host.
    pub fn wait_healthy(&self, service: &str, within: Duration) -> Result<(), String> {
        let addr: SocketAddr = self.addr(service).parse().map_err(|e| format!("{e}"))?;
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if healthz(addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("{service} was not healthy within {within:?}"))
    }

    /// Cuts `service` off the network: no container reaches it, nor the host.
    pub fn cut(&self, service: &str) -> Result<(), String> {
        let id = self.container(service)?;
        run(
            "docker",
            &["network", "disconnect", &self.network(), &id],
            &[],
        )
        .map(drop)
    }

    /// Connects `service` again, under its name.
    pub fn heal(&self, service: &str) -> Result<(), String> {
        let (id, network) = (self.container(service)?, self.network());
        let args = ["network", "connect", "--alias", service, &network, &id];
        run("docker", &args, &[]).map(drop)
    }

    /// SIGKILLs `service`'s server (its container stops; its volume stays).
    pub fn kill(&self, service: &str) -> Result<(), String> {
        let id = self.container(service)?;
        run("docker", &["kill", "--signal", "KILL", &id], &[]).map(drop)
    }

    /// Starts `service`'s stopped container again and waits until it serves.
    pub fn restart(&self, service: &str) -> Result<(), String> {
        let id = self.container(service)?;
        run("docker", &["start", &id], &[])?;
        self.wait_healthy(service, Duration::from_secs(30))
    }

    /// Whether `from`'s container reaches `to`'s server by its service name (within a
    /// second), asked with the image's own binary: to check that a cut is real.
    pub fn reaches(&self, from: &str, to: &str) -> bool {
        let Ok(id) = self.container(from) else {
            return false;
        };
        let target = format!("{to}:7000");
        let args = [
            "exec",
            &id,
            "/distlab",
            "status",
            "--healthz",
            "--timeout",
            "1s",
            &target,
        ];
        run("docker", &args, &[]).is_ok()
    }

    /// The end of every service's log, for a failure message.
    pub fn logs(&self) -> String {
        self.compose(&["logs", "--no-color", "--tail", "25"])
            .unwrap_or_else(|e| format!("(no logs: {e})"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let down = ["down", "--volumes", "--remove-orphans", "--timeout", "3"];
        if let Err(e) = self.compose(&down) {
            eprintln!("could not remove compose project {}: {e}", self.project);
        }
    }
}
