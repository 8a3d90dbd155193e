//! Reading the personal shooting QR code. This first version reads an unsigned
//! `GBT0|id|name|student number|school` text (issue 5 replaces it with signed tickets behind
//! the same `read` function); anything else is refused with a reason.

use crate::visit::{Ticket, TicketRefusal};

const PREFIX: &str = "GBT0|";
const MAX_FIELD: usize = 64;

/// The demo ticket presented by the keyboard shortcut and the scripted graduate.
pub fn demo_ticket_text() -> String {
    format!("{PREFIX}DEMO-0001|李明|2022123456|上海电子信息职业技术学院")
}

pub fn read(text: &str) -> Result<Ticket, TicketRefusal> {
    let body = text.trim().strip_prefix(PREFIX).ok_or(TicketRefusal::NotATicket)?;
    let fields: Vec<&str> = body.split('|').collect();
    let [id, name, student_no, school] = fields[..] else {
        return Err(TicketRefusal::NotATicket);
    };
    let ok = |f: &str| !f.trim().is_empty() && f.chars().count() <= MAX_FIELD && !f.chars().any(char::is_control);
    if ![id, name, student_no, school].into_iter().all(ok) {
        return Err(TicketRefusal::NotATicket);
    }
    Ok(Ticket { id: id.into(), name: name.into(), student_no_masked: mask(student_no), school: school.into() })
}

/// Show the first four and last two characters: 2022123456 → 2022****56.
pub fn mask(student_no: &str) -> String {
    let chars: Vec<char> = student_no.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..4], &chars[chars.len() - 2..]);
    format!("{}{}{}", head.iter().collect::<String>(), "*".repeat(chars.len() - 6), tail.iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_ticket_reads_with_a_masked_student_number() {
        let t = read(&demo_ticket_text()).unwrap();
        assert_eq!((t.id.as_str(), t.student_no_masked.as_str()), ("DEMO-0001", "2022****56"));
    }

    #[test]
    fn other_codes_are_not_tickets() {
        for text in ["", "https://example.com", "GBT0|a|b|c", "GBT0|a|b|c|d|e", "GBT0|a||c|d", "GBT0|a|b\u{7}|c|d"] {
            assert_eq!(read(text), Err(TicketRefusal::NotATicket), "{text:?}");
        }
    }

    #[test]
    fn short_numbers_are_masked_whole() {
        assert_eq!(mask("12345"), "*****");
        assert_eq!(mask("1234567"), "1234*67");
    }
}
