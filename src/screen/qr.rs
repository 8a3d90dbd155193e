//! A QR code as a grey image: one pixel a module times `scale`, with the standard 4-module
//! quiet zone. Used for the payment code on screen and for printed tickets.

pub fn render(text: &str, ec: qrcode::EcLevel, scale: u32) -> Result<image::GrayImage, qrcode::types::QrError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), ec)?;
    let (n, quiet) = (code.width() as u32, 4u32);
    let colors = code.to_colors();
    let side = (n + 2 * quiet) * scale.max(1);
    Ok(image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / scale.max(1), y / scale.max(1));
        let dark = mx >= quiet
            && my >= quiet
            && mx < quiet + n
            && my < quiet + n
            && colors[((my - quiet) * n + (mx - quiet)) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_code_has_its_quiet_zone_and_dark_finder_corners() {
        let img = super::render("GBT1:ABC", qrcode::EcLevel::M, 2).unwrap();
        assert_eq!(img.width(), img.height());
        assert_eq!(img.get_pixel(0, 0)[0], 255, "quiet zone is light");
        assert_eq!(img.get_pixel(8, 8)[0], 0, "the finder pattern starts after 4 modules");
    }
}
