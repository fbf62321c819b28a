//! Tests of the bench-trace port (`peers_synth.rs`) against the Python generator's output.

use super::*;
use crate::workload::csv_trace::write_csv_trace;

fn csv(jobs: &[TraceJob]) -> String {
    let mut out = Vec::new();
    write_csv_trace(jobs, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `python3 gen_synth_trace.py --scenario gang --jobs 20 --nodes 2 --formats csv`
const GANG_20J_2N: &str = "\
job_id,submit_s,duration_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue,priority
0,198,287,4,8000,32768,q2,0
1,495,284,1,2000,8192,q2,0
2,528,456,4,4000,16384,q0,0
3,561,112,2,2000,8192,q0,0
4,1024,582,2,2000,8192,q0,0
5,1071,1596,8,2000,8192,q3,0
6,1300,882,2,4000,16384,q1,0
7,1370,833,2,2000,8192,q0,0
8,1480,864,1,2000,8192,q3,0
9,1537,439,8,4000,16384,q3,0
10,1604,268,1,1000,4096,q1,0
11,1858,1183,4,2000,8192,q2,0
12,1902,84,4,4000,16384,q2,0
13,2045,1259,4,1000,4096,q2,0
14,2377,1033,4,8000,32768,q2,0
15,2626,266,4,8000,32768,q3,0
16,2628,292,1,2000,8192,q3,0
17,2662,1084,1,4000,16384,q2,0
18,2869,440,8,8000,32768,q2,0
19,2877,736,1,8000,32768,q0,0
";

/// `python3 gen_synth_trace.py --scenario backlog --jobs 12 --nodes 3 --formats csv`
/// (ties on submit broken by job number: 8 before 9 at 53 s).
const BACKLOG_12J_3N: &str = "\
job_id,submit_s,duration_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue,priority
1,10,193,1,4000,16384,q0,0
5,12,554,1,2000,8192,q1,0
0,13,236,1,8000,32768,q0,0
11,23,107,1,4000,16384,q3,0
2,25,183,1,4000,16384,q2,0
4,29,112,1,2000,8192,q0,0
6,32,791,1,2000,8192,q3,0
3,38,650,1,8000,32768,q2,0
7,43,902,1,8000,32768,q2,0
10,46,232,1,2000,8192,q1,0
8,53,607,1,4000,16384,q3,0
9,53,833,1,2000,8192,q0,0
";

#[test]
fn gang_matches_python_byte_for_byte() {
    let jobs = generate(PeersScenario::Gang, 20, 2, DEFAULT_SEED);
    assert_eq!(csv(&jobs), GANG_20J_2N);
    assert!(jobs
        .iter()
        .all(|j| j.min_member == j.replicas && j.validate().is_ok()));
    assert_eq!(
        trace_name(PeersScenario::Gang, 20, 2, 42),
        "synth-gang-20j-2n-s42"
    );
}

#[test]
fn backlog_matches_python_byte_for_byte() {
    assert_eq!(
        csv(&generate(PeersScenario::Backlog, 12, 3, 42)),
        BACKLOG_12J_3N
    );
}

#[test]
fn bench_10k_traces_match_the_published_sha256() {
    let cases = [
        (
            PeersScenario::Steady,
            "9522578b15cb30612e5e9ed5360c8f223f5997b45201ae2ad1610d23226dbe93",
        ),
        (
            PeersScenario::Backlog,
            "72da567d217f5a8dce1dbb79bcf96f796046c800b664dc99fdbf7c78f8171bb0",
        ),
        (
            PeersScenario::Gang,
            "fef61ad6438557525f7af8a0e002cf521de88fbc51153f3c2b9bd6444d32deae",
        ),
    ];
    for (scenario, want) in cases {
        let jobs = generate(scenario, 10_000, 100, 42);
        assert_eq!(sha256_hex(csv(&jobs).as_bytes()), want, "{scenario}");
    }
    let pods: u32 = generate(PeersScenario::Gang, 10_000, 100, 42)
        .iter()
        .map(|j| j.replicas)
        .sum();
    assert_eq!(pods, 37_470);
}

#[test]
fn scenario_names_parse() {
    for s in [
        PeersScenario::Steady,
        PeersScenario::Backlog,
        PeersScenario::Gang,
    ] {
        assert_eq!(s.to_string().parse::<PeersScenario>(), Ok(s));
    }
    assert!("burst"
        .parse::<PeersScenario>()
        .unwrap_err()
        .contains("steady, backlog or gang"));
}

#[test]
fn sha256_known_answer() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// Minimal SHA-256 (FIPS 180-4), test-only: no hashing crate is in the lockfile.
fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7]
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [
                t1.wrapping_add(t2),
                v[0],
                v[1],
                v[2],
                v[3].wrapping_add(t1),
                v[4],
                v[5],
                v[6],
            ];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}
