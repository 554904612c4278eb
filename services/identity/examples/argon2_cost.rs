//! The cost of one password hash with Weft's Argon2id parameters on this machine:
//! `cargo run --release -p weft-identity --example argon2_cost`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), weft_identity::IdentityError> {
    const ROUNDS: u32 = 30;
    // The first hash warms the allocator; it is not counted.
    let phc = weft_identity::passwords::hash("linen-and-wool-2026".to_owned()).await?;
    let started = std::time::Instant::now();
    for _ in 0..ROUNDS {
        weft_identity::passwords::hash("linen-and-wool-2026".to_owned()).await?;
    }
    let hash = started.elapsed() / ROUNDS;
    let started = std::time::Instant::now();
    for _ in 0..ROUNDS {
        assert!(
            weft_identity::passwords::verify("linen-and-wool-2026".to_owned(), phc.clone()).await
        );
    }
    let verify = started.elapsed() / ROUNDS;
    println!(
        "argon2id m=19456 KiB t=2 p=1: hash {hash:.1?}, verify {verify:.1?} (mean of {ROUNDS})"
    );
    Ok(())
}
