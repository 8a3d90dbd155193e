//! The cost of paying and sealing on the booth: signing a WeChat Pay request (RSA-2048),
//! verifying an answer, a whole query round trip against the local sandbox, and sealing a
//! standard photo (~30 KB) and its manifest with age.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gradbooth::payment::wechat_sign::{Signer, Verifier, request_message};
use gradbooth::payment::{OrderRequest, PaymentGateway, Sandbox, WechatPay};
use gradbooth::upload::seal::{Centre, Manifest};

fn signatures(c: &mut Criterion) {
    let sandbox = Sandbox::start().unwrap();
    let cfg = sandbox.client_config("fengxian-d108", Duration::from_secs(5));
    let signer = Signer::from_pem(&cfg.private_key_pem, &cfg.mchid, &cfg.cert_serial).unwrap();
    let body = r#"{"appid":"wxd930ea5d5a258f4f","mchid":"1900000109","out_trade_no":"fengxiand1-DEMO0001-1"}"#;
    c.bench_function("wechatpay_sign_request", |b| {
        b.iter(|| signer.authorization("POST", "/v3/pay/transactions/native", 1_700_000_000, "NONCE", body).unwrap())
    });
    let verifier = Verifier::from_der(signer.public_key_der(), "k");
    let message = request_message("POST", "/v3/pay/transactions/native", 1_700_000_000, "NONCE", body);
    let sig = signer.sign(message.as_bytes()).unwrap();
    c.bench_function("wechatpay_verify_answer", |b| b.iter(|| assert!(verifier.verify(message.as_bytes(), &sig))));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = WechatPay::new(cfg).unwrap();
    let order = OrderRequest {
        out_trade_no: "fengxiand1-BENCH-1".into(),
        amount_fen: 3000,
        description: "高等院校毕业生照".into(),
        valid_for: Duration::from_secs(300),
    };
    rt.block_on(client.create(&order)).unwrap();
    c.bench_function("wechatpay_query_round_trip_sandbox", |b| {
        b.iter(|| rt.block_on(client.query("fengxiand1-BENCH-1", 3000)).unwrap())
    });
}

fn sealing(c: &mut Criterion) {
    let identity = age::x25519::Identity::generate();
    let centre: Centre = identity.to_public().to_string().parse().unwrap();
    let jpeg = vec![0x5Au8; 30 * 1024];
    let manifest = Manifest {
        ticket_id: "T-2026-0001".into(),
        booth_id: "fengxian-d108".into(),
        captured_at: 1_780_000_000,
        paid_at: 1_780_000_100,
        out_trade_no: "fengxiand1-T20260001-1".into(),
        transaction_id: "4200000001202606030000000001".into(),
        measures: (0..20).map(|i| (format!("measure_{i}"), i as f32 * 0.1)).collect(),
    };
    c.bench_function("seal_30kb_photo_and_manifest", |b| b.iter(|| centre.seal_photo(&jpeg, &manifest).unwrap()));
}

criterion_group!(benches, signatures, sealing);
criterion_main!(benches);
