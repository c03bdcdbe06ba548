"""Texts used by make_golden.py: the tokenizer training corpus and the query/document pairs.

Everything here is hand-written for rerank4j's golden fixtures; nothing is downloaded.
"""

# ---------------------------------------------------------------------------------------------
# Training corpus for the tiny WordPiece tokenizer (English first, then a few other languages).
# ---------------------------------------------------------------------------------------------
CORPUS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A search engine ranks documents by how well they answer the user's query.",
    "Neural rerankers read the query and the document together and return a relevance score.",
    "Cross-encoders are slower than bi-encoders but usually more accurate for reranking.",
    "The capital of France is Paris, and the capital of Germany is Berlin.",
    "Berlin has about 3.7 million inhabitants and many museums, parks and lakes.",
    "How many people live in Berlin? More than three million people live in the city.",
    "Machine learning models are trained on data and evaluated on held-out examples.",
    "Transformers use self-attention to mix information between all tokens of a sequence.",
    "The weather today is sunny with a light breeze from the west and mild temperatures.",
    "Tomorrow it will rain in the morning and clear up in the afternoon.",
    "To bake bread you need flour, water, salt and yeast, and a hot oven.",
    "Knead the dough for ten minutes, let it rise for an hour, then shape the loaf.",
    "Java is a programming language that runs on the Java virtual machine.",
    "Python is popular for data science, scripting and machine learning research.",
    "Memory mapped files let a program read large weights without copying them into the heap.",
    "The library loads safetensors files, checks every tensor shape and computes scores on the CPU.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The heart pumps blood through arteries and veins to every part of the body.",
    "Regular exercise, good sleep and a balanced diet improve long-term health.",
    "The football match ended in a draw after extra time and a penalty shootout was needed.",
    "She plays the piano every evening and practises scales before dinner.",
    "The museum opens at nine o'clock and closes at six, except on Mondays.",
    "Trains leave the central station every fifteen minutes during the rush hour.",
    "The stock market fell sharply after the central bank raised interest rates.",
    "Climate change increases the frequency of heat waves, droughts and heavy rainfall.",
    "Volcanoes erupt when pressure from molten rock beneath the surface is released.",
    "The Moon orbits the Earth roughly once every twenty-seven days.",
    "Write clear tests, keep functions small and document what each public method returns.",
    "Tokenizers split text into words and word pieces, then map each piece to an integer id.",
    "Unknown characters become the unknown token; special tokens mark the start and the end.",
    "Punctuation such as commas, periods, question marks and exclamation marks is split off!",
    "Numbers like 42, 3.14 and 2024 are common in questions about dates and prices.",
    # French
    "La capitale de la France est Paris ; c'est une ville très célèbre pour ses musées.",
    "Le café est servi chaud avec un croissant et une tartine de beurre.",
    "Où se trouve la gare la plus proche ? Elle est à côté de l'hôtel de ville.",
    "L'été dernier, nous avons visité les châteaux de la Loire et mangé des crêpes.",
    # German
    "Die Hauptstadt von Deutschland ist Berlin, und München liegt in Bayern.",
    "Größere Städte haben mehr Straßenbahnen, Brücken und öffentliche Gärten.",
    "Wie viele Menschen wohnen in Berlin? Über drei Millionen Einwohner.",
    # Spanish / Portuguese / Italian
    "¿Dónde está la biblioteca? Está al lado de la estación de tren.",
    "El niño come una manzana y bebe un vaso de leche por la mañana.",
    "A música brasileira é famosa no mundo inteiro; a canção é linda.",
    "La pizza napoletana è cotta nel forno a legna per novanta secondi.",
    # Others
    "Москва — столица России, а Санкт-Петербург известен своими музеями.",
    "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "東京は日本の首都です。大阪は食べ物で有名です。",
    "北京是中国的首都，上海是一个大城市。我喜欢喝茶。",
    "서울은 한국의 수도입니다. 부산은 바다로 유명합니다.",
    "Ærøskøbing, Åland and Øresund have letters like æ, ø and å; naïve café façade coöperate.",
]

# ---------------------------------------------------------------------------------------------
# Pairs for the tiny random cross-encoder (bert-tiny-ce). (id, query, doc, max_length)
# ---------------------------------------------------------------------------------------------
LONG_DOC = (
    "Berlin is the capital and largest city of Germany, both by area and by population. "
    "Its more than three million inhabitants make it the most populous city of the European Union. "
    "The city is also one of the states of Germany and is surrounded by the state of Brandenburg."
)
LONG_QUERY = (
    "what is the name of the very large city in germany where many museums parks lakes and "
    "trains can be found and how many people live there today"
)

BERT_TINY_PAIRS = [
    ("short-1", "how many people live in berlin?", "Berlin has about 3.7 million inhabitants.", 64),
    ("short-2", "how many people live in berlin?", "The museum opens at nine o'clock.", 64),
    ("short-3", "bake bread", "Knead the dough for ten minutes.", 64),
    ("short-4", "bake bread", "The stock market fell sharply.", 64),
    ("short-5", "java virtual machine", "Java is a programming language that runs on the Java virtual machine.", 64),
    ("short-6", "weather tomorrow", "Tomorrow it will rain in the morning.", 64),
    ("one-word", "fox", "dog", 64),
    ("same-text", "the quick brown fox", "the quick brown fox", 64),
    ("uppercase", "HOW MANY PEOPLE LIVE IN BERLIN", "BERLIN HAS ABOUT 3.7 MILLION INHABITANTS", 64),
    ("numbers", "what is 3.14?", "Numbers like 42, 3.14 and 2024 are common.", 64),
    ("empty-doc", "how many people live in berlin?", "", 64),
    ("empty-doc-short-max", "berlin", "", 8),
    ("punct-doc", "what punctuation?", "?!., ;: -- ... ()", 64),
    ("punct-query", "?!", "Punctuation such as commas and periods is split off!", 64),
    ("accents-fr", "capitale de la france", "La capitale de la France est Paris ; c'est une ville très célèbre.", 64),
    ("accents-de", "größere städte", "Größere Städte haben mehr Straßenbahnen und Brücken.", 64),
    ("accents-strip", "cafe facade naive", "café façade naïve", 64),
    ("cjk-zh", "中国的首都", "北京是中国的首都，上海是一个大城市。", 64),
    ("cjk-ja", "日本の首都", "東京は日本の首都です。", 64),
    ("korean", "한국의 수도", "서울은 한국의 수도입니다.", 64),
    ("cyrillic", "столица россии", "Москва — столица России.", 64),
    ("unknown-chars", "emoji 🙂 query", "Some symbols ∑ ∫ ☃ and 🚀 are not in the vocabulary.", 64),
    ("sep-in-doc", "split here", "first part [SEP] second part", 64),
    ("cls-in-query", "[CLS] fake start", "a normal document", 64),
    ("trunc-doc-24", "how many people live in berlin?", LONG_DOC, 24),
    ("trunc-doc-32", "berlin population", LONG_DOC, 32),
    ("trunc-query-24", LONG_QUERY, "Berlin has about 3.7 million inhabitants.", 24),
    ("trunc-both-24", LONG_QUERY, LONG_DOC, 24),
    ("trunc-both-25", LONG_QUERY, LONG_DOC, 25),
    ("trunc-doc-64", "how many people live in berlin?", LONG_DOC + " " + LONG_DOC, 64),
    ("trunc-query-64", LONG_QUERY + " " + LONG_QUERY, "Berlin has about 3.7 million inhabitants.", 64),
    ("whitespace", "  spaced   out\tquery \n", "\n\ttabs and  newlines \r\n", 64),
]
# Two pairs are generated at run time (they depend on the trained vocabulary):
#   "exact-64": a pair whose encoding is exactly 64 tokens without truncation;
#   "equal-sides-N": both sides equally long, truncated by an odd and an even budget.


# ---------------------------------------------------------------------------------------------
# Realistic pairs for all-MiniLM-L6-v2: passages and the queries run against them.
# ---------------------------------------------------------------------------------------------
PASSAGES = {
    "berlin": (
        "Berlin is the capital and largest city of Germany by both area and population. Its 3,520,031 "
        "inhabitants make it the European Union's most populous city, according to population within "
        "city limits."
    ),
    "berlin_museums": (
        "Berlin is well known for its museums. Museum Island, a UNESCO World Heritage Site, holds five "
        "museums, among them the Pergamon Museum and the Neues Museum, home of the bust of Nefertiti."
    ),
    "sourdough": (
        "To make a sourdough starter, mix equal weights of whole wheat flour and lukewarm water in a jar, "
        "cover it loosely and leave it at room temperature. Every day, discard half of the starter and "
        "feed it again with fresh flour and water. After five to ten days the starter should double in "
        "size within a few hours of feeding, smell pleasantly sour and be full of bubbles. At that point "
        "it is active enough to leaven bread. Keep it in the refrigerator between bakes and feed it once "
        "a week; take it out the evening before you bake and give it two feedings so it is lively again."
    ),
    "photosynthesis": (
        "Photosynthesis is the process by which green plants, algae and some bacteria convert light "
        "energy into chemical energy. In the chloroplasts, chlorophyll absorbs mostly blue and red light. "
        "The light-dependent reactions split water, release oxygen and produce ATP and NADPH, which the "
        "Calvin cycle then uses to fix carbon dioxide into sugars."
    ),
    "python_list_sort": (
        "In Python, list.sort() sorts a list in place and returns None, while the built-in sorted() "
        "returns a new sorted list and works on any iterable. Both accept a key function and a reverse "
        "flag, and both are stable."
    ),
    "java_gc": (
        "The Java virtual machine manages memory automatically with a garbage collector. Objects are "
        "allocated on the heap, and when no live reference points to an object any more, the collector "
        "may reclaim its memory. Modern JDKs ship several collectors: G1 is the default and balances "
        "throughput and pause times; ZGC and Shenandoah aim for pauses of a millisecond or less even "
        "with heaps of many gigabytes; the Parallel collector maximises throughput for batch jobs; and "
        "the Serial collector suits small heaps and single-core containers. You choose one with flags "
        "such as -XX:+UseZGC, and size the heap with -Xms and -Xmx. Garbage collection logs, enabled "
        "with -Xlog:gc, show how often the collector runs and how long each pause takes, which is the "
        "first thing to look at when an application stalls under load."
    ),
    "heart_attack": (
        "Common symptoms of a heart attack include chest pain or pressure, pain spreading to the arm, "
        "neck or jaw, shortness of breath, cold sweat, nausea and light-headedness. Women are more "
        "likely than men to have less typical symptoms such as fatigue or back pain. Call emergency "
        "services immediately if you suspect a heart attack."
    ),
    "marathon": (
        "A marathon is a long-distance foot race with a distance of 42.195 kilometres. The event was "
        "instituted in commemoration of the fabled run of the Greek soldier Pheidippides, a messenger "
        "from the Battle of Marathon to Athens."
    ),
    "mortgage": (
        "A fixed-rate mortgage keeps the same interest rate for the entire term of the loan, so the "
        "monthly payment of principal and interest never changes. An adjustable-rate mortgage starts "
        "with a lower introductory rate that later resets periodically based on a market index, which "
        "means payments can rise or fall. Borrowers who plan to stay in a home for many years often "
        "prefer the predictability of a fixed rate, while those who expect to sell or refinance within "
        "a few years may save money with an adjustable rate."
    ),
    "volcano": (
        "Volcanoes erupt when magma, which is less dense than the surrounding rock, rises toward the "
        "surface and gas dissolved in it comes out of solution as pressure drops. If the magma is "
        "viscous and rich in gas, the pressure builds until it is released in an explosive eruption; "
        "runny, gas-poor basaltic magma tends to produce gentler lava flows, as in Hawaii."
    ),
    "eiffel": (
        "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris. It was designed "
        "by the company of Gustave Eiffel and built from 1887 to 1889 as the entrance arch to the 1889 "
        "World's Fair. It is 330 metres tall."
    ),
    "tokyo": (
        "Tokyo, officially the Tokyo Metropolis, is the capital of Japan and one of the most populous "
        "urban areas in the world, with more than 37 million people living in the Greater Tokyo Area."
    ),
    "vaccines": (
        "Vaccines train the immune system to recognise a pathogen without causing the disease. They "
        "contain a weakened or inactivated form of the microbe, a piece of it such as a protein, or "
        "genetic instructions that let cells make that protein for a while. The immune system responds "
        "by producing antibodies and memory cells, so that a later infection is fought off quickly. "
        "Because some vaccines need several doses to build lasting protection, health authorities "
        "publish schedules that say when children and adults should receive each dose, and booster "
        "shots restore immunity that fades over time."
    ),
    "git_rebase": (
        "git rebase moves a series of commits onto a new base commit. Instead of creating a merge "
        "commit, it replays each commit of your branch on top of the target branch, giving a linear "
        "history. Interactive rebase (git rebase -i) lets you reorder, squash, edit or drop commits. "
        "Never rebase commits that others have already pulled, because rewriting shared history forces "
        "everyone else to reconcile their copies."
    ),
    "coffee": (
        "Coffee contains caffeine, a stimulant that blocks adenosine receptors in the brain and reduces "
        "the feeling of tiredness. A typical cup of brewed coffee contains 80 to 100 milligrams of "
        "caffeine. Most healthy adults can safely consume up to 400 milligrams a day."
    ),
    "amazon_river": (
        "The Amazon River in South America is the largest river by discharge volume of water in the "
        "world, and the disputed longest river system in the world in comparison to the Nile."
    ),
    "tiny": "Paris is in France.",
    "short_tip": "Restart the router to fix most home Wi-Fi problems.",
    "short_fact": "Water boils at 100 degrees Celsius at sea level.",
    "short_def": "A haiku is a Japanese poem of three lines with five, seven and five syllables.",
    "rome": (
        "The Roman Empire was the post-Republican period of ancient Rome. As a polity, it included large "
        "territorial holdings around the Mediterranean Sea in Europe, North Africa and Western Asia, and "
        "was ruled by emperors. From the accession of Caesar Augustus as the first Roman emperor in 27 BC "
        "to the military anarchy of the third century, it was a principate with Italia as the metropole "
        "of its provinces and the city of Rome as its sole capital. The Empire was later ruled by "
        "multiple emperors who shared control over the Western Roman Empire and the Eastern Roman Empire. "
        "The city of Rome remained the nominal capital of both parts until AD 476, when the imperial "
        "insignia were sent to Constantinople following the capture of the Western capital of Ravenna "
        "by the Germanic barbarians under Odoacer and the subsequent deposition of Romulus Augustulus. "
        "The fall of the Western Roman Empire to Germanic kings, along with the hellenisation of the "
        "Eastern Roman Empire into the Byzantine Empire, is conventionally used to mark the end of "
        "ancient Rome and the beginning of the Middle Ages. The Eastern empire survived for almost another "
        "thousand years, until Constantinople fell to the Ottoman Turks in 1453. Historians still "
        "debate the causes of the decline in the West: economic strain, plague, civil wars between "
        "rival generals, pressure on the frontiers and the sheer cost of defending them all played a part."
    ),
    "solar_panels": (
        "Solar panels convert sunlight into electricity using photovoltaic cells made mostly of silicon. "
        "When photons strike a cell, they knock electrons loose, and an electric field in the cell pushes "
        "those electrons into a current. Panels produce direct current, so an inverter converts it into "
        "the alternating current used by household appliances and the grid. The output of a panel "
        "depends on its efficiency, its orientation and tilt, shading, temperature and the amount of "
        "sunlight at the site; most residential panels today have efficiencies between 18 and 23 "
        "percent. Panels lose a small fraction of their output each year, typically around half a "
        "percent, and manufacturers usually guarantee at least 80 percent of the original output after "
        "25 years. A home system is often paired with net metering, which credits the owner for surplus "
        "electricity fed into the grid, or with a battery that stores energy for use in the evening. "
        "Installation costs have fallen by more than 80 percent over the last decade, which has made "
        "rooftop solar one of the cheapest sources of new electricity in many countries. Cleaning the "
        "panels a few times a year and checking the inverter's status lights is usually all the "
        "maintenance a system needs, although inverters tend to be replaced once during the life of the "
        "panels. Before buying, check whether the roof can carry the extra load and how many years of "
        "life it has left, because removing and reinstalling panels for a new roof adds to the cost."
    ),
    "transformer_arch": (
        "The Transformer is a neural network architecture based entirely on attention. An encoder maps "
        "an input sequence of token embeddings to a sequence of contextual representations using layers "
        "of multi-head self-attention followed by position-wise feed-forward networks, each wrapped in a "
        "residual connection and layer normalisation. Because attention has no notion of order, position "
        "information is added to the embeddings, either as fixed sinusoidal signals or as learned "
        "position embeddings. BERT uses only the encoder stack and is pre-trained with masked language "
        "modelling: some input tokens are replaced by a mask token and the model learns to predict them "
        "from both left and right context. For sentence embeddings, models such as Sentence-BERT run each "
        "sentence through the encoder separately and pool the token vectors, usually by averaging them "
        "over the attention mask, so that a query and a document can be compared by cosine similarity. "
        "Cross-encoders instead feed the query and the document together as one sequence separated by a "
        "special separator token, and a classification head on the first token outputs a relevance "
        "score. Cross-encoders are more accurate because every query token can attend to every document "
        "token, but they must run the full model for each pair, whereas bi-encoders can pre-compute and "
        "index document embeddings once and compare them with a query embedding in milliseconds. A "
        "common design therefore retrieves a few hundred candidates with a bi-encoder or BM25 and reranks "
        "only those candidates with a cross-encoder before showing the top results to the user. "
        "Late-interaction models such as ColBERT sit between the two designs: they keep one vector per "
        "document token, computed offline, and score a query by summing, for every query token, its "
        "highest similarity with any document token. This keeps much of the accuracy of a cross-encoder "
        "while still allowing documents to be encoded ahead of time, at the price of a much larger index. "
        "Whatever the design, the maximum sequence length matters: tokens beyond the limit are simply "
        "cut off, so a long passage is usually split into overlapping chunks before it is indexed."
    ),
    "fr_paris": (
        "Paris est la capitale de la France et la ville la plus peuplée du pays. Elle est traversée par "
        "la Seine et célèbre pour la tour Eiffel, le musée du Louvre et la cathédrale Notre-Dame."
    ),
    "de_bahn": (
        "Die Deutsche Bahn betreibt den größten Teil des Schienenverkehrs in Deutschland. Mit dem "
        "Deutschlandticket kann man für einen festen Monatspreis alle Busse und Regionalzüge nutzen."
    ),
    "es_tortilla": (
        "Para hacer una tortilla de patatas, pela y corta las patatas en láminas finas, fríelas a fuego "
        "lento con cebolla en abundante aceite de oliva, escúrrelas y mézclalas con huevos batidos. "
        "Cuaja la tortilla por ambos lados en una sartén."
    ),
    "zh_greatwall": "长城是中国古代的军事防御工程，总长度超过两万公里，是世界上最著名的建筑之一。",
    "ja_sakura": "日本では毎年春に桜が咲き、多くの人が公園でお花見を楽しみます。",
    "password": (
        "A strong password is at least twelve characters long and mixes upper- and lower-case letters, "
        "numbers and symbols. Better still, use a password manager to generate a unique random password "
        "for every site and turn on two-factor authentication."
    ),
}

# (query, passage key). The first pairs are relevant; later ones pair queries with the wrong passage.
MINILM_PAIRS = [
    ("How many people live in Berlin?", "berlin"),
    ("How many people live in Berlin?", "berlin_museums"),
    ("museums in berlin", "berlin_museums"),
    ("berlin population", "tokyo"),
    ("how to make a sourdough starter", "sourdough"),
    ("how often should I feed my sourdough starter", "sourdough"),
    ("sourdough starter", "photosynthesis"),
    ("what is photosynthesis", "photosynthesis"),
    ("why do plants need light", "photosynthesis"),
    ("which gas do plants release", "volcano"),
    ("python sort list in place", "python_list_sort"),
    ("difference between sort and sorted python", "python_list_sort"),
    ("python sort list", "java_gc"),
    ("java garbage collector low pause", "java_gc"),
    ("how to enable gc logging in the jvm", "java_gc"),
    ("jvm heap size flags", "git_rebase"),
    ("symptoms of a heart attack in women", "heart_attack"),
    ("chest pain and shortness of breath", "heart_attack"),
    ("heart attack", "marathon"),
    ("how long is a marathon", "marathon"),
    ("origin of the marathon race", "marathon"),
    ("marathon distance in km", "eiffel"),
    ("fixed vs adjustable rate mortgage", "mortgage"),
    ("should I choose an adjustable rate mortgage if I will sell in three years", "mortgage"),
    ("mortgage interest", "coffee"),
    ("why do volcanoes erupt", "volcano"),
    ("explosive eruption viscous magma", "volcano"),
    ("how tall is the eiffel tower", "eiffel"),
    ("who built the eiffel tower", "eiffel"),
    ("eiffel tower height", "fr_paris"),
    ("population of tokyo", "tokyo"),
    ("capital of japan", "tokyo"),
    ("capital of japan", "ja_sakura"),
    ("how do vaccines work", "vaccines"),
    ("why do I need a booster shot", "vaccines"),
    ("vaccines", "password"),
    ("git rebase vs merge", "git_rebase"),
    ("squash commits with interactive rebase", "git_rebase"),
    ("how much caffeine in a cup of coffee", "coffee"),
    ("is 400 mg of caffeine safe", "coffee"),
    ("coffee", "amazon_river"),
    ("largest river in the world", "amazon_river"),
    ("wifi not working", "short_tip"),
    ("boiling point of water", "short_fact"),
    ("what is a haiku", "short_def"),
    ("haiku", "short_tip"),
    ("when did the western roman empire fall", "rome"),
    ("first roman emperor", "rome"),
    ("roman empire", "solar_panels"),
    ("how do solar panels work", "solar_panels"),
    ("solar panel efficiency and degradation per year", "solar_panels"),
    ("do solar panels need maintenance", "solar_panels"),
    ("cross-encoder vs bi-encoder", "transformer_arch"),
    ("how does bert pretraining work", "transformer_arch"),
    ("why rerank candidates retrieved by bm25", "transformer_arch"),
    ("transformer attention", "rome"),
    ("capitale de la France", "fr_paris"),
    ("What is the capital of France?", "fr_paris"),
    ("Deutschlandticket Preis", "de_bahn"),
    ("train ticket germany", "de_bahn"),
    ("receta de tortilla de patatas", "es_tortilla"),
    ("how to make a spanish omelette", "es_tortilla"),
    ("长城有多长", "zh_greatwall"),
    ("great wall of china length", "zh_greatwall"),
    ("お花見 いつ", "ja_sakura"),
    ("cherry blossom season japan", "ja_sakura"),
    ("how to create a strong password", "password"),
    ("two-factor authentication", "password"),
    ("password", "berlin"),
    ("", "short_fact"),
    ("where is paris", "tiny"),
    ("late interaction colbert index size", "transformer_arch"),
]
