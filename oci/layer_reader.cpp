#include "oci/layer_reader.hpp"

#include <cerrno>
#include <cstring>

#include <isa-l/igzip_lib.h>
#include <unistd.h>
#include <zstd.h>

#include <fmt/core.h>

#include "base/error.hpp"

namespace kiln::oci {

struct LayerReader::Decoder
{
  inflate_state gzip;
  ZSTD_DCtx* zstd = nullptr;
  bool member_done = false; // gzip: the current member ended
  ~Decoder() { ZSTD_freeDCtx(zstd); }
};

LayerReader::LayerReader(Fd fd, std::string name, ExpectedDigests expected)
  : m_fd(std::move(fd)), m_name(std::move(name)), m_expected(std::move(expected)),
    m_decoder(std::make_unique<Decoder>()), m_input(1 << 20)
{
}

LayerReader::~LayerReader() = default;

Result<size_t> LayerReader::fill_input()
{
  if (m_input_pos < m_input_end) {
    return m_input_end - m_input_pos;
  }
  m_input_pos = m_input_end = 0;
  while (!m_input_eof) {
    ssize_t n = ::read(m_fd.get(), m_input.data(), m_input.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail(fmt::format("read layer {}: {}", m_name, errno_text(errno)));
    }
    if (n == 0) {
      m_input_eof = true;
      break;
    }
    m_blob_hasher.update(m_input.data(), static_cast<size_t>(n));
    m_input_end = static_cast<size_t>(n);
    break;
  }
  return m_input_end;
}

Result<void> LayerReader::verify()
{
  m_done = true;
  m_blob_digest = m_blob_hasher.finish();
  if (m_expected.blob && *m_expected.blob != *m_blob_digest) {
    return fail(fmt::format("read layer {}: blob digest mismatch (expected {}, got {})", m_name,
                            m_expected.blob->str(), m_blob_digest->str()));
  }
  return m_hash_output ? check_diff_id(m_diff_hasher.finish()) : Result<void>();
}

Result<void> LayerReader::check_diff_id(const Digest& computed)
{
  m_diff_id = computed;
  if (m_expected.diff_id && *m_expected.diff_id != computed) {
    return fail(fmt::format("read layer {}: diff_id mismatch (expected {}, got {})", m_name,
                            m_expected.diff_id->str(), computed.str()));
  }
  return {};
}

Result<size_t> LayerReader::read(void* buffer, size_t size)
{
  if (m_done) {
    return 0;
  }
  if (!m_detected) {
    auto filled = fill_input();
    if (!filled) {
      return fail(filled.error());
    }
    const unsigned char* p = m_input.data();
    if (*filled >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
      m_compression = Compression::gzip;
      isal_inflate_init(&m_decoder->gzip);
      m_decoder->gzip.crc_flag = ISAL_GZIP;
    } else if (*filled >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd) {
      m_compression = Compression::zstd;
      m_decoder->zstd = ZSTD_createDCtx();
    }
    m_detected = true;
  }
  auto* out = static_cast<unsigned char*>(buffer);
  for (;;) {
    auto filled = fill_input();
    if (!filled) {
      return fail(filled.error());
    }
    size_t produced = 0;
    if (m_compression == Compression::none) {
      if (*filled == 0) {
        auto verified = verify();
        if (!verified) {
          return fail(verified.error());
        }
        return 0;
      }
      produced = std::min(size, *filled);
      std::memcpy(out, m_input.data() + m_input_pos, produced);
      m_input_pos += produced;
    } else if (m_compression == Compression::gzip) {
      auto& st = m_decoder->gzip;
      if (*filled == 0) {
        if (!m_decoder->member_done) {
          return fail(fmt::format("read layer {}: gzip stream is truncated", m_name));
        }
        auto verified = verify();
        if (!verified) {
          return fail(verified.error());
        }
        return 0;
      }
      if (m_decoder->member_done) {
        // Another gzip member follows (multi-member files are valid gzip).
        isal_inflate_reset(&st);
        st.crc_flag = ISAL_GZIP;
        m_decoder->member_done = false;
      }
      st.next_in = m_input.data() + m_input_pos;
      st.avail_in = static_cast<uint32_t>(*filled);
      st.next_out = out;
      st.avail_out = static_cast<uint32_t>(std::min<size_t>(size, UINT32_MAX));
      int rc = isal_inflate(&st);
      if (rc != ISAL_DECOMP_OK) {
        return fail(fmt::format("read layer {}: corrupt gzip stream (igzip error {})", m_name, rc));
      }
      m_input_pos = m_input_end - st.avail_in;
      produced = size - st.avail_out;
      if (st.block_state == ISAL_BLOCK_FINISH) {
        m_decoder->member_done = true;
      }
    } else {
      if (*filled == 0) {
        return fail(fmt::format("read layer {}: zstd stream is truncated", m_name));
      }
      ZSTD_inBuffer in{m_input.data() + m_input_pos, *filled, 0};
      ZSTD_outBuffer o{out, size, 0};
      size_t rc = ZSTD_decompressStream(m_decoder->zstd, &o, &in);
      if (ZSTD_isError(rc)) {
        return fail(fmt::format("read layer {}: corrupt zstd stream ({})", m_name, ZSTD_getErrorName(rc)));
      }
      m_input_pos += in.pos;
      produced = o.pos;
      if (rc == 0 && m_input_pos == m_input_end) {
        // A frame ended exactly at the end of the buffered input: the stream
        // ends here unless more input (another frame) follows.
        auto more = fill_input();
        if (!more) {
          return fail(more.error());
        }
        if (*more == 0) {
          if (m_hash_output) {
            m_diff_hasher.update(out, produced);
          }
          auto verified = verify();
          if (!verified) {
            return fail(verified.error());
          }
          return produced;
        }
      }
    }
    if (produced > 0) {
      if (m_hash_output) {
        m_diff_hasher.update(out, produced);
      }
      return produced;
    }
  }
}

} // namespace kiln::oci
