//! The language server's wire: JSON-RPC messages framed by a `Content-Length` header, read
//! from the editor and written back (LSP's base protocol).

use std::io::{self, BufRead, Write};

use serde_json::Value;

/// The next message, or `None` at the end of the input. A message that is not JSON is an
/// `InvalidData` error; a header without `Content-Length` too.
pub fn read_message(input: &mut impl BufRead) -> io::Result<Option<Value>> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            // The blank line ends the header (stray blank lines before one are skipped).
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<usize>().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length header")
            })?);
        }
    }
    let mut body = vec![0; length.unwrap_or_default()];
    input.read_exact(&mut body)?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

/// Write one message with its header, and flush it.
pub fn write_message(output: &mut impl Write, message: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(output, "Content-Length: {}\r\n\r\n", body.len())?;
    output.write_all(&body)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_message_reads_back() {
        let message = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ünïcode"});
        let mut wire = Vec::new();
        write_message(&mut wire, &message).unwrap();
        write_message(&mut wire, &message).unwrap();
        let mut input = &wire[..];
        assert_eq!(read_message(&mut input).unwrap(), Some(message.clone()));
        assert_eq!(read_message(&mut input).unwrap(), Some(message));
        assert_eq!(read_message(&mut input).unwrap(), None);
    }
}
