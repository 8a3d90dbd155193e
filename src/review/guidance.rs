//! The one hint the preview shows: the first live check that fails, turned into what the
//! graduate should do (which way to move, the chair up or down). Hint codes are texts in
//! `ui/texts.slint`. Directions are the graduate's own: a face on the image's right is on the
//! graduate's left, so they should move to their right.

use super::checks::{Check, Measures, judge};

pub const OK: &str = "hint_ok";

pub fn hint(checks: &[Check], m: &Measures) -> &'static str {
    let Some(f) = judge(checks, m, false, true).into_iter().next() else { return OK };
    match f.code {
        "no_face" => "hint_no_face",
        "multiple_faces" => "hint_multiple_faces",
        "face_too_small" => "hint_closer",
        "face_too_large" => "hint_further",
        "off_centre" if f.measured > 0.0 => "hint_move_right",
        "off_centre" => "hint_move_left",
        // Eyes high in the frame: the seat is too high.
        "head_too_high" => "hint_seat_down",
        "head_too_low" => "hint_seat_up",
        "head_tilted" => "hint_straighten",
        "head_turned" => "hint_face_camera",
        "head_lowered_or_raised" if f.measured > 0.0 => "hint_chin_up",
        "head_lowered_or_raised" => "hint_chin_down",
        _ => OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::checks::CHECKS;

    fn checks() -> Vec<Check> {
        CHECKS.iter().map(|s| Check { spec: s, limit: s.limit, severity: s.severity }).collect()
    }

    fn good() -> Measures {
        [
            ("faces", 1.0),
            ("face_width_ratio", 0.45),
            ("centre_offset", 0.0),
            ("eye_line", 0.4),
            ("roll", 0.0),
            ("yaw", 0.0),
            ("pitch", 0.0),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn a_well_placed_face_gets_the_ok() {
        assert_eq!(hint(&checks(), &good()), OK);
    }

    #[test]
    fn the_hint_names_a_direction_and_the_most_basic_problem_first() {
        let c = checks();
        let with = |k: &'static str, v: f32| {
            let mut m = good();
            m.insert(k, v);
            m
        };
        assert_eq!(hint(&c, &with("centre_offset", 0.2)), "hint_move_right");
        assert_eq!(hint(&c, &with("centre_offset", -0.2)), "hint_move_left");
        assert_eq!(hint(&c, &with("eye_line", 0.1)), "hint_seat_down");
        assert_eq!(hint(&c, &with("eye_line", 0.7)), "hint_seat_up");
        assert_eq!(hint(&c, &with("pitch", 25.0)), "hint_chin_up");
        assert_eq!(hint(&c, &with("pitch", -25.0)), "hint_chin_down");
        // Two problems: the face size comes before the head's pitch.
        let mut m = with("pitch", 30.0);
        m.insert("face_width_ratio", 0.1);
        assert_eq!(hint(&c, &m), "hint_closer");
        // Mouth, eyes and light are not part of the live subset.
        assert_eq!(hint(&c, &with("eye_openness", 0.0)), OK);
        assert_eq!(hint(&c, &with("mouth_opening", 1.5)), OK);
        let mut none = Measures::new();
        none.insert("faces", 0.0);
        assert_eq!(hint(&c, &none), "hint_no_face");
    }
}
