#!/usr/bin/env python3
"""Writes src/test/resources/tokenize/corpus.txt: the multilingual tokenizer parity corpus.

Standard library only, deterministic (fixed seed). One text per line, UTF-8. Backslash escapes keep
line-breaking characters out of the file: the reader (WordPieceParityTest) maps \\\\ to a backslash and
\\uXXXX to that UTF-16 unit; every other character, controls included, is written literally.

Usage: python3 tools/make_corpus.py [output]   (default: src/test/resources/tokenize/corpus.txt)
"""
import random
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "src/test/resources/tokenize/corpus.txt"
rng = random.Random(20240611)

# Characters that would end a line for some reader (Java, Python splitlines, editors), plus NUL.
ESCAPED = {"\\", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00"}


def escape(text):
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch in ESCAPED:
            out.append("\\u%04X" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


ENGLISH_QUERIES = [
    "how many people live in berlin?", "What is the capital of France?", "best way to learn java generics",
    "symptoms of vitamin D deficiency", "Who wrote 'Pride and Prejudice'?", "python vs. java performance 2024",
    "how do I reset my router's password", "define: photosynthesis", "cheap flights NYC -> LAX", "is coffee bad for you",
    "when did the Berlin Wall fall", "convert 100 USD to EUR", "what's the difference between RAM and ROM?",
    "why is the sky blue", "BERT reranker latency on CPU", "How To Tie A Tie", "U.S. GDP growth Q3",
    "e-mail vs email", "state-of-the-art cross-encoders (2023)", "C++ std::vector<int> push_back complexity",
]
ENGLISH_PASSAGES = [
    "Berlin has a population of 3,520,031 registered inhabitants in an area of 891.82 square kilometers.",
    "Berlin is well known for its museums.", "The quick brown fox jumps over the lazy dog.",
    "Photosynthesis is the process by which green plants use sunlight to synthesize foods from carbon dioxide and water.",
    "Jane Austen's novel Pride and Prejudice was published in 1813; it remains one of the most popular novels in English.",
    "The Berlin Wall fell on 9 November 1989, after 28 years.",
    "Rayleigh scattering causes shorter (blue) wavelengths of light to scatter more than longer (red) ones.",
    "Random-access memory (RAM) is volatile; read-only memory (ROM) keeps its contents without power.",
    "Cross-encoders read the query and the document together, which makes them slower but more accurate than bi-encoders.",
    "Don't forget: it's 5 o'clock somewhere!!! ...right?", "Mr. O'Neil paid $1,234.56 (incl. 19% VAT) on 2024-03-01.",
    "The HTTP/1.1 spec (RFC 2616) was obsoleted by RFCs 7230-7235.", "Vitamin D deficiency can cause bone pain & muscle weakness.",
    "unaffable unbelievably antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "GPU-accelerated inference; CPU-only fallback; 8-bit quantization; FP16/BF16 weights.",
]
FRENCH = ["Où est la bibliothèque ? Je voudrais un café crème.", "L'été dernier, nous sommes allés à Montréal.",
          "Ça coûte 12,50 € — très cher !", "Élève, garçon, naïve, Noël, cœur, œuvre, façade, déjà vu.",
          "« Bonjour », dit-il à l'hôtesse d'accueil."]
GERMAN = ["Die Straße ist naß und die Bäume blühen.", "Größenordnung, Übermäßig, Öffnungszeiten, Schäferhund.",
          "Fußgängerübergänge sind in der Innenstadt häufig.", "Wie viele Einwohner hat München?", "ÄÖÜ äöü ß ẞ"]
VIETNAMESE = ["Tiếng Việt có nhiều dấu thanh điệu.", "Hà Nội là thủ đô của Việt Nam.", "Phở bò và bánh mì rất ngon.",
              "Người Việt Nam rất thân thiện.", "Đường phố Sài Gòn đông đúc vào buổi sáng."]
OTHER_LATIN = ["Ångström, Øresund, Ærø", "Ñandú, señor, mañana, ¿Qué tal? ¡Hola!", "Łódź, Kraków, Gdańsk, żółć",
               "İstanbul, ışık, Ağrı, Şişli", "Čeština: příliš žluťoučký kůň úpěl ďábelské ódy", "crème brûlée à la carte",
               "ΑΒΓ αβγ Ελληνικά: Καλημέρα κόσμε, ΟΔΟΣ σοφίας", "ǅemal ǈubljana ǋego ﬁne ﬂow ﬀ"]
CHINESE = ["柏林有多少人口？", "我爱北京天安门。", "机器学习是人工智能的一个分支。", "今天天气很好，我们去公园散步吧！",
           "深度学习模型需要大量的数据进行训练。", "中华人民共和国成立于1949年10月1日。", "𠀀𠀁𪚥𫝀 rare ideographs"]
JAPANESE = ["東京は日本の首都です。", "ひらがなとカタカナ、そして漢字。", "ラーメンが大好きです！", "ｶﾀｶﾅ半角とＡＢＣ全角",
            "私の名前は田中です。よろしくお願いします。"]
KOREAN = ["서울은 대한민국의 수도입니다.", "안녕하세요, 만나서 반갑습니다!", "한국어 형태소 분석기", "ᄀᄁᄂ 자모 ㄱㄴㄷ"]
ARABIC = ["ما هي عاصمة فرنسا؟", "اللغة العربية جميلة جداً.", "مَرْحَبًا بِكُمْ", "١٢٣٤٥ ٦٧٨٩٠"]
HINDI = ["भारत की राजधानी नई दिल्ली है।", "नमस्ते, आप कैसे हैं?", "हिन्दी भाषा देवनागरी लिपि में लिखी जाती है।", "क्षत्रिय ज्ञान श्री"]
CYRILLIC = ["Сколько людей живёт в Берлине?", "Москва — столица России.", "Привет, мир! Ёлка, ещё, объём.",
            "Україна, Київ, їжак, ґанок", "Беларусь: Мінск, ў"]
OTHER_SCRIPTS = ["שלום עולם", "ภาษาไทยไม่มีช่องว่าง", "ქართული ენა", "Հայերեն լեզու", "አማርኛ ቋንቋ", "ᓀᐦᐃᔭᐍᐏᐣ",
                 "ᚠᚢᚦᚨᚱᚲ runes", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝐛𝐨𝐥𝐝", "ⅠⅡⅢ ⅰⅱⅲ ①②③ ¹²³ ½ ¾"]
EMOJI = ["I love it 😀😃😄", "👍🏽 thumbs up with skin tone", "family: 👨‍👩‍👧‍👦 and 👩‍❤️‍💋‍👨", "flags 🇫🇷🇩🇪🇯🇵🇺🇸 🏴‍☠️ 🏳️‍🌈",
         "🧑‍💻 coding at 3am ☕️", "new emoji 🥰 🫠 🫶 🪿 🩷", "keycaps 1️⃣ #️⃣ *️⃣", "❤️ vs ❤ vs ♥", "🙂🙃😉😊😇🥲",
         "text😀glued😀emoji", "🏳️‍⚧️🏴󠁧󠁢󠁳󠁣󠁴󠁿 tag sequences"]
PUNCT = ["!!!???...", "---===+++", "a...b,,,c;;;d", "(((nested))) [[brackets]] {{braces}}", "“quotes” ‘single’ «guillemets» „low“",
         "¡¿ ‽ ⁇ ※ § ¶ † ‡ • ‣ …", "em—dash en–dash minus − hyphen‐", "@#$%^&*()_+`~|\\/<>", "【括号】《书名》「引号」、。，",
         "..........", "'''\"\"\"```", "a/b\\c|d", "_under_score_ and __dunder__", "½°C ±5% ×2 ÷3 ≠ ≤ ≥"]
URLS = ["https://www.example.com/path/to/page?query=1&lang=en#section", "http://localhost:8080/api/v1/rerank",
        "mailto:someone@example.org", "ftp://files.example.net/pub/README.txt", "www.wikipedia.org/wiki/Berlin_Wall",
        "see https://huggingface.co/cross-encoder/ms-marco-MiniLM-L6-v2 for details",
        "user.name+tag@sub.domain.co.uk", "C:\\Users\\me\\Documents\\file.txt", "/usr/local/bin/java -version"]
NUMBERS = ["3.14159265358979", "1,000,000", "1.000.000,00", "-42", "+49 30 123456", "2024-06-11T12:34:56Z", "0x7FFFFFFF",
           "1e-12", "10^9", "12:30pm", "007", "99.9%", "$5", "€5", "£5", "¥500", "₹100", "1st 2nd 3rd 4th"]
SPECIALS = ["[SEP]", "[CLS]", "[MASK]", "[UNK]", "[PAD]", "[sep]", "[ SEP ]", "[SEP][SEP]", "x[MASK]y", "[CLS]hello",
            "[MASK].", "[[SEP]]", "[unused0]", "[unused1]", "<s>", "</s>", "<pad>", "##ing", "##"]
CONTROLS = ["\t", "\n", "\r", "\r\n", "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85",
            "\xa0", "\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u2028", "\u2029", "\u202f", "\u3000", "\ufeff",
            "\ufffd", "\ue000", "\U000f0000", "\u2060", "\u180e", "\u1680", "\u2003", "\u0378", "\U000E0001"]
ACCENTED_LETTERS = "àáâãäåèéêëìíîïòóôõöùúûüýÿñçÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝÑÇőűŐŰăâđêôơưĂÂĐÊÔƠƯạảấầẩẫậắằẳẵặẹẻẽếềểễệ"
COMBINING = ["e\u0301", "a\u0300\u0323", "n\u0303", "o\u0308\u0304", "\u0301start", "i\u0307", "Z\u0335\u0317\u0347"]

GROUPS = [ENGLISH_QUERIES, ENGLISH_PASSAGES, FRENCH, GERMAN, VIETNAMESE, OTHER_LATIN, CHINESE, JAPANESE, KOREAN,
          ARABIC, HINDI, CYRILLIC, OTHER_SCRIPTS, EMOJI, PUNCT, URLS, NUMBERS]
ALL_FRAGMENTS = [t for g in GROUPS for t in g]
WORDS = " ".join(ALL_FRAGMENTS).split()

lines = []
add = lines.append

# 1. Every fragment as written, and simple case variations.
for text in ALL_FRAGMENTS + COMBINING:
    add(text)
    add(text.upper())
    add(text.lower())

# 2. Edge cases written out.
for text in ["", " ", "   ", "\t", "\n", " \t \n ", "\u3000\u3000", "a", "A", ".", "##", "[SEP]", " [SEP] ",
             "[SEP] [SEP]", "a" * 99, "a" * 100, "a" * 101, "é" * 100, "é" * 101, "😀" * 100, "😀" * 101,
             "中" * 150, "x" * 500, "supercalifragilisticexpialidocious" * 4, "ab" * 80 + " end",
             "\x00\x01\x02", "\ufffd\ufffd", "\U0001F600", "\U0010FFFD", "\u0301", "\u0301\u0302\u0303",
             "word\u00adword", "zero\u200bwidth", "tab\tseparated\tvalues", "line one\nline two\r\nline three",
             "done.\n\n\nNext paragraph."]:
    add(text)

# 3. Special tokens inside text.
for i in range(120):
    words = rng.sample(WORDS, 5)
    pos = rng.randrange(6)
    words.insert(pos, rng.choice(SPECIALS))
    sep = rng.choice([" ", "", " ", "  "])
    add(sep.join(words))

# 4. Control and odd whitespace characters spliced into text.
for i in range(150):
    text = rng.choice(ALL_FRAGMENTS)
    for _ in range(rng.randint(1, 3)):
        k = rng.randrange(len(text) + 1)
        text = text[:k] + rng.choice(CONTROLS) + text[k:]
    add(text)

# 5. Very long words and long passages.
for i in range(60):
    n = rng.choice([50, 99, 100, 101, 120, 200, 1000])
    alphabet = rng.choice(["abcdefghij", ACCENTED_LETTERS, "αβγδε", "абвгд", "0123456789", "ab-", "中文日本"])
    add("prefix " + "".join(rng.choice(alphabet) for _ in range(n)) + " suffix")
for i in range(80):
    add(" ".join(rng.choice(ENGLISH_PASSAGES + FRENCH + GERMAN) for _ in range(rng.randint(3, 12))))

# 6. Random mixtures of everything (queries and documents of many shapes).
while len(lines) < 2400:
    parts = []
    for _ in range(rng.randint(1, 8)):
        r = rng.random()
        if r < 0.45:
            parts.append(" ".join(rng.sample(WORDS, rng.randint(1, 10))))
        elif r < 0.55:
            parts.append(rng.choice(SPECIALS))
        elif r < 0.65:
            parts.append(rng.choice(CONTROLS))
        elif r < 0.75:
            parts.append("".join(rng.choice(ACCENTED_LETTERS) for _ in range(rng.randint(1, 12))))
        elif r < 0.8:
            parts.append("")
        else:
            parts.append(rng.choice(ALL_FRAGMENTS))
    add(rng.choice([" ", "", "\t", "  "]).join(parts))

with open(OUT, "w", encoding="utf-8", newline="\n") as f:
    for text in lines:
        f.write(escape(text) + "\n")
print(f"wrote {len(lines)} lines to {OUT}")
