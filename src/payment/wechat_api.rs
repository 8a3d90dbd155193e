//! The WeChat Pay API v3 Native payment (扫码支付) messages the booth sends and reads, and the
//! checks a `SUCCESS` must pass before the booth believes it. Pure: no network here (the
//! client that sends them, signed by `wechat_sign`, comes with the sandbox server).

use serde::{Deserialize, Serialize};

/// `POST /v3/pay/transactions/native`.
pub const NATIVE_PATH: &str = "/v3/pay/transactions/native";

/// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…`.
pub fn query_path(out_trade_no: &str, mchid: &str) -> String {
    format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={mchid}")
}

/// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`.
pub fn close_path(out_trade_no: &str) -> String {
    format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeOrder {
    pub appid: String,
    pub mchid: String,
    pub description: String,
    pub out_trade_no: String,
    /// RFC 3339 with offset, e.g. `2025-06-03T10:05:00+08:00`.
    pub time_expire: String,
    pub notify_url: String,
    pub amount: Amount,
    pub scene_info: SceneInfo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    /// Fen.
    pub total: u32,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneInfo {
    pub payer_client_ip: String,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct NativeCreated {
    pub code_url: String,
}

/// The query answer (the fields the booth reads; WeChat sends more).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Transaction {
    pub mchid: String,
    pub out_trade_no: String,
    pub trade_state: String,
    #[serde(default)]
    pub transaction_id: Option<String>,
    #[serde(default)]
    pub amount: Option<PaidAmount>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PaidAmount {
    pub total: u32,
    #[serde(default)]
    pub payer_total: Option<u32>,
}

/// What a verified query answer means for the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Paid {
        transaction_id: String,
    },
    /// Not paid yet (`NOTPAY`, `USERPAYING`).
    Waiting,
    /// Closed, revoked or failed: no money will come for this order.
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    #[error("the answer is for merchant {0:?}")]
    Merchant(String),
    #[error("the answer is for order {0:?}")]
    Order(String),
    #[error("paid {got} fen, the order is {want} fen")]
    Amount { got: u32, want: u32 },
    #[error("paid without a transaction id")]
    NoTransaction,
    #[error("unknown trade state {0:?}")]
    UnknownState(String),
}

/// Checks a (signature-verified) query answer against the order the booth made.
pub fn settle(t: &Transaction, mchid: &str, out_trade_no: &str, amount_fen: u32) -> Result<Settled, Mismatch> {
    if t.mchid != mchid {
        return Err(Mismatch::Merchant(t.mchid.clone()));
    }
    if t.out_trade_no != out_trade_no {
        return Err(Mismatch::Order(t.out_trade_no.clone()));
    }
    match t.trade_state.as_str() {
        "SUCCESS" => {
            let got = t.amount.as_ref().map_or(0, |a| a.total);
            if got != amount_fen {
                return Err(Mismatch::Amount { got, want: amount_fen });
            }
            match &t.transaction_id {
                Some(id) if !id.is_empty() => Ok(Settled::Paid { transaction_id: id.clone() }),
                _ => Err(Mismatch::NoTransaction),
            }
        }
        "NOTPAY" | "USERPAYING" => Ok(Settled::Waiting),
        "CLOSED" | "REVOKED" | "PAYERROR" | "REFUND" => Ok(Settled::Closed),
        other => Err(Mismatch::UnknownState(other.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Transaction {
        serde_json::from_str(json).unwrap()
    }

    const PAID: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"fengxiand1-DEMO0001-1",
        "transaction_id":"1217752501201407033233368018","trade_type":"NATIVE","trade_state":"SUCCESS",
        "trade_state_desc":"支付成功","bank_type":"OTHERS","success_time":"2025-06-03T10:02:11+08:00",
        "payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":1500,"payer_total":1500,"currency":"CNY","payer_currency":"CNY"}}"#;

    #[test]
    fn a_success_for_this_order_and_amount_is_paid() {
        assert_eq!(
            settle(&answer(PAID), "1230000109", "fengxiand1-DEMO0001-1", 1500),
            Ok(Settled::Paid { transaction_id: "1217752501201407033233368018".into() })
        );
    }

    #[test]
    fn a_success_that_does_not_match_the_order_is_refused() {
        let t = answer(PAID);
        assert_eq!(
            settle(&t, "1230000109", "fengxiand1-DEMO0001-1", 2000),
            Err(Mismatch::Amount { got: 1500, want: 2000 })
        );
        assert_eq!(settle(&t, "999", "fengxiand1-DEMO0001-1", 1500), Err(Mismatch::Merchant("1230000109".into())));
        assert_eq!(
            settle(&t, "1230000109", "fengxiand1-DEMO0001-2", 1500),
            Err(Mismatch::Order(t.out_trade_no.clone()))
        );
        let no_id = Transaction { transaction_id: None, ..t };
        assert_eq!(settle(&no_id, "1230000109", "fengxiand1-DEMO0001-1", 1500), Err(Mismatch::NoTransaction));
    }

    #[test]
    fn waiting_closed_and_unknown_states() {
        let state = |s: &str| {
            let t = answer(&format!(r#"{{"mchid":"1","out_trade_no":"o","trade_state":"{s}"}}"#));
            settle(&t, "1", "o", 1500)
        };
        assert_eq!(state("NOTPAY"), Ok(Settled::Waiting));
        assert_eq!(state("USERPAYING"), Ok(Settled::Waiting));
        assert_eq!(state("CLOSED"), Ok(Settled::Closed));
        assert_eq!(state("PAYERROR"), Ok(Settled::Closed));
        assert_eq!(state("MAYBE"), Err(Mismatch::UnknownState("MAYBE".into())));
    }

    #[test]
    fn the_order_serialises_as_the_api_expects() {
        let o = NativeOrder {
            appid: "wxd678efh567hg6787".into(),
            mchid: "1230000109".into(),
            description: "学历证书电子注册图像".into(),
            out_trade_no: "fengxiand1-DEMO0001-1".into(),
            time_expire: "2025-06-03T10:05:00+08:00".into(),
            notify_url: "https://booth.invalid/notify".into(),
            amount: Amount { total: 1500, currency: "CNY".into() },
            scene_info: SceneInfo { payer_client_ip: "127.0.0.1".into(), device_id: "fengxian-d108".into() },
        };
        let v: serde_json::Value = serde_json::to_value(&o).unwrap();
        assert_eq!(v["amount"]["total"], 1500);
        assert_eq!(v["amount"]["currency"], "CNY");
        assert_eq!(v["scene_info"]["device_id"], "fengxian-d108");
        assert_eq!(v["time_expire"], "2025-06-03T10:05:00+08:00");
        assert_eq!(query_path("o-1", "123"), "/v3/pay/transactions/out-trade-no/o-1?mchid=123");
        assert_eq!(close_path("o-1"), "/v3/pay/transactions/out-trade-no/o-1/close");
    }
}
