//! The WeChat Pay client against the sandbox: real HTTP, real signatures both ways.

use std::time::Duration;

use super::sandbox::{self, Faults, PayRefused, Sandbox};
use super::*;

const BOOTH: &str = "fengxian-d108";

fn client(s: &Sandbox, timeout: Duration) -> WechatPay {
    WechatPay::new(s.client_config(BOOTH, timeout)).unwrap()
}

fn order(no: &str) -> OrderRequest {
    OrderRequest {
        out_trade_no: no.into(),
        amount_fen: 3000,
        description: "高等院校毕业生照".into(),
        valid_for: Duration::from_secs(300),
    }
}

#[tokio::test]
async fn an_order_is_created_paid_and_found_paid_and_a_retry_gets_the_same_code() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_secs(5));
    let code = c.create(&order("booth-T1-1")).await.unwrap();
    assert!(code.starts_with("weixin://wxpay/bizpayurl?pr="), "{code}");
    assert_eq!(c.create(&order("booth-T1-1")).await.unwrap(), code, "the same order asked for again");
    assert_eq!(s.order("booth-T1-1").unwrap().creates, 2);
    let o = s.order("booth-T1-1").unwrap();
    assert_eq!((o.amount_fen, o.device_id.as_str()), (3000, BOOTH));
    assert!(o.expires_at > wechat::unix_now() + 250, "time_expire a few minutes ahead");
    assert_eq!(c.query("booth-T1-1", 3000).await.unwrap(), TradeState::NotPaid);
    assert_eq!(s.pay_code(&code).unwrap(), "booth-T1-1");
    let paid = c.query("booth-T1-1", 3000).await.unwrap();
    let TradeState::Paid { transaction_id } = paid else { panic!("{paid:?}") };
    assert_eq!(transaction_id.len(), 28);
    assert_eq!(c.close("booth-T1-1").await.unwrap_err().refusal(), Some("ORDERPAID"));
    assert_eq!(s.pay_code(&code), Err(PayRefused::NotPayable("SUCCESS".into())), "paid once only");
    let (requests, refused) = s.requests();
    assert_eq!((requests, refused), (5, 0));
}

#[tokio::test]
async fn a_closed_or_expired_code_cannot_be_paid_and_an_unknown_order_is_not_found() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_secs(5));
    let code = c.create(&order("booth-T2-1")).await.unwrap();
    c.close("booth-T2-1").await.unwrap();
    assert_eq!(c.query("booth-T2-1", 3000).await.unwrap(), TradeState::Closed);
    assert_eq!(s.pay_code(&code), Err(PayRefused::NotPayable("CLOSED".into())));
    assert_eq!(c.create(&order("booth-T2-1")).await.unwrap_err().refusal(), Some("ORDER_CLOSED"));
    let short = OrderRequest { valid_for: Duration::from_secs(1), ..order("booth-T2-2") };
    let code = c.create(&short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(s.pay_code(&code), Err(PayRefused::Expired));
    assert_eq!(c.query("booth-T9-1", 3000).await.unwrap(), TradeState::NotFound);
}

#[tokio::test]
async fn the_sandbox_refuses_a_request_signed_with_another_merchant_key() {
    let s = Sandbox::start().unwrap();
    let mut config = s.client_config(BOOTH, Duration::from_secs(5));
    config.private_key_pem =
        include_str!("testdata/wechatpay-go-signer-test.pem").replace("TESTING KEY", "PRIVATE KEY");
    let impostor = WechatPay::new(config).unwrap();
    let err = impostor.create(&order("booth-T3-1")).await.unwrap_err();
    assert_eq!(err.refusal(), Some("SIGN_ERROR"), "{err}");
    assert_eq!(s.requests().1, 1);
    assert!(s.orders().is_empty(), "nothing was created");
}

#[tokio::test]
async fn answers_that_do_not_verify_are_never_believed() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_secs(5));
    let code = c.create(&order("booth-T4-1")).await.unwrap();
    s.pay_code(&code).unwrap();
    s.set_faults(Faults { bad_signatures: 2, ..Faults::default() });
    for _ in 0..2 {
        let err = c.query("booth-T4-1", 3000).await.unwrap_err();
        assert!(matches!(err, PaymentError::Forged(_)), "{err}");
        assert!(!err.is_transient());
    }
    assert!(matches!(c.query("booth-T4-1", 3000).await, Ok(TradeState::Paid { .. })));
    // A booth that trusts another WeChat Pay key believes none of the sandbox's answers.
    let mut config = s.client_config(BOOTH, Duration::from_secs(5));
    config.public_key_pem = include_str!("testdata/wechatpay-go-signer-test.pub.pem").into();
    let misled = WechatPay::new(config).unwrap();
    assert!(matches!(misled.query("booth-T4-1", 3000).await, Err(PaymentError::Forged(_))));
}

#[tokio::test]
async fn rate_limits_server_errors_and_hangs_are_transient() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_millis(500));
    s.set_faults(Faults { rate_limited: 1, server_errors: 1, ..Faults::default() });
    let e = c.create(&order("booth-T5-1")).await.unwrap_err();
    assert_eq!(e, PaymentError::Busy { status: 429, detail: "RATELIMIT_EXCEEDED".into() });
    let e = c.create(&order("booth-T5-1")).await.unwrap_err();
    assert_eq!(e, PaymentError::Busy { status: 500, detail: "SYSTEM_ERROR".into() });
    assert!(s.orders().is_empty(), "nothing was created while the service failed");
    // Slow but within the timeout: fine.
    s.set_faults(Faults { delay: Duration::from_millis(200), ..Faults::default() });
    c.create(&order("booth-T5-1")).await.unwrap();
    // Longer than the timeout: no answer.
    s.set_faults(Faults { delay: Duration::from_secs(2), ..Faults::default() });
    let e = c.query("booth-T5-1", 3000).await.unwrap_err();
    assert!(matches!(&e, PaymentError::Unreachable(m) if m.starts_with("timed out")), "{e}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn a_paid_answer_for_another_amount_is_a_mismatch_not_a_payment() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_secs(5));
    let code = c.create(&order("booth-T6-1")).await.unwrap();
    s.pay_code(&code).unwrap();
    s.set_faults(Faults { paid_amount: Some(1), ..Faults::default() });
    let e = c.query("booth-T6-1", 3000).await.unwrap_err();
    assert!(matches!(&e, PaymentError::Mismatch(m) if m.contains("paid 1 fen")), "{e}");
}

#[tokio::test]
async fn nobody_listening_is_unreachable() {
    let url = {
        let s = Sandbox::start().unwrap();
        s.url().to_owned()
    };
    let c = WechatPay::new(sandbox::client_config(&url, BOOTH, Duration::from_secs(2))).unwrap();
    let e = c.create(&order("booth-T7-1")).await.unwrap_err();
    assert!(matches!(&e, PaymentError::Unreachable(m) if m.starts_with("cannot connect")), "{e}");
}

#[tokio::test]
async fn paying_at_the_last_second_makes_closing_answer_orderpaid() {
    let s = Sandbox::start().unwrap();
    let c = client(&s, Duration::from_secs(5));
    c.create(&order("booth-T8-1")).await.unwrap();
    s.set_faults(Faults { pay_on_close: true, ..Faults::default() });
    assert_eq!(c.close("booth-T8-1").await.unwrap_err().refusal(), Some("ORDERPAID"));
    assert!(matches!(c.query("booth-T8-1", 3000).await, Ok(TradeState::Paid { .. })));
}
