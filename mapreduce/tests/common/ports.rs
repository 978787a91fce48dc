//! Loopback ports for worker processes, shared by `tests/processes.rs` and
//! `benches/wordcount.rs` (each includes this file by path).

/// A port P on loopback such that P..P+n are free when asked (a worker's slots bind them
/// right after).
pub fn free_ports(n: usize) -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
        let port = first.local_addr().expect("its address").port();
        let rest_free = (1..n).all(|i| {
            u16::try_from(usize::from(port) + i)
                .is_ok_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if rest_free {
            return port;
        }
    }
}
