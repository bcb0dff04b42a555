"""What the scenario's people write, per language and tone, and who they are.

Templates: {b} brand, {h} @brand handle, {t} topic, {p} incident product, {c} @critic.
"""

from __future__ import annotations


_BASELINE: dict[str, dict[str, list[str]]] = {
    "da": {
        "neutral": [
            "Er der nogen, der ved, om {b} har ændret noget ved {t}?",
            "Har I også fået en mail fra {b} om {t}?",
            "Skiftede til {b} i sidste måned. Indtil videre ingen overraskelser.",
            "Læste en artikel om {b} i morges, ret interessant.",
            "Hvad er jeres erfaringer med {b}? Overvejer at skifte.",
            "{b} har vist opdateret {t} i nat.",
            "Nogen der har prøvet {t} hos {b}?",
            "Så en reklame for {b} i tv i går aftes.",
        ],
        "positive": [
            "Stor ros til {b}, {t} fungerer rigtig godt.",
            "Positivt overrasket over {b} i dag 👍",
            "Hurtigt og venligt svar fra {b}. Sådan skal det være.",
            "Må sige, at {t} hos {b} er blevet meget bedre.",
            "Glad for, at jeg skiftede til {b}.",
            "Tak til {h} for hjælpen i dag!",
        ],
        "negative": [
            "Lidt træt af {b} lige nu, {t} driller igen.",
            "Hvorfor skal det altid være så besværligt med {t} hos {b}?",
            "Har ventet 40 minutter i telefonkø hos {b}. Seriøst?",
            "Ikke imponeret over {b} denne gang.",
            "{h} hvornår bliver der gjort noget ved {t}? Det virker stadig ikke.",
            "Overvejer at skifte fra {b}. Det er simpelthen for dyrt.",
        ],
    },
    "nb": {
        "neutral": [
            "Noen som vet om {b} har endret noe med {t}?",
            "Fikk akkurat en e-post fra {b} om {t}. Noen andre?",
            "Byttet til {b} forrige måned. Så langt ingen overraskelser.",
            "Leste en sak om {b} i morges, ganske interessant.",
            "Hva er erfaringene deres med {b}? Vurderer å bytte.",
            "{b} har visst oppdatert {t} i natt.",
            "Har noen prøvd {t} hos {b}?",
        ],
        "positive": [
            "Stor takk til {b}, {t} fungerer veldig bra.",
            "Positivt overrasket over {b} i dag 👍",
            "Raskt og hyggelig svar fra {b}. Sånn skal det være.",
            "Må si at {t} hos {b} har blitt mye bedre.",
            "Glad for at jeg byttet til {b}.",
            "Takk for hjelpen i dag, {h}!",
        ],
        "negative": [
            "Litt lei av {b} nå, {t} krøller seg igjen.",
            "Hvorfor må det alltid være så tungvint med {t} hos {b}?",
            "Har ventet 40 minutter i telefonkø hos {b}. Seriøst?",
            "Ikke imponert over {b} denne gangen.",
            "{h} når blir det gjort noe med {t}? Det virker fortsatt ikke.",
            "Vurderer å bytte fra {b}. Det er rett og slett for dyrt.",
        ],
    },
    "nn": {
        "neutral": [
            "Er det nokon som veit om {b} har endra noko med {t}?",
            "Fekk nettopp ein e-post frå {b} om {t}.",
            "Bytte til {b} førre månad. Så langt ingen overraskingar.",
            "Las ei sak om {b} i dag tidleg.",
            "Kva erfaringar har de med {b}?",
        ],
        "positive": [
            "Stor takk til {b}, {t} fungerer veldig bra.",
            "Eg er heilt nøgd med {b}, dei svara med ein gong.",
            "Må seie at {t} hos {b} har vorte mykje betre.",
        ],
        "negative": [
            "Kvifor må det alltid vere så tungvint med {t} hos {b}?",
            "Dette var ikkje bra av {b}. Eg har venta i telefonkø i ein halvtime.",
            "{h} når blir det gjort noko med {t}? Det verkar framleis ikkje.",
        ],
    },
    "sv": {
        "neutral": [
            "Vet någon om {b} har ändrat något med {t}?",
            "Fick precis ett mejl från {b} om {t}. Någon mer?",
            "Bytte till {b} förra månaden. Inga överraskningar hittills.",
            "Läste en artikel om {b} i morse, ganska intressant.",
            "Vad har ni för erfarenheter av {b}? Funderar på att byta.",
            "{b} har visst uppdaterat {t} i natt.",
        ],
        "positive": [
            "Stort tack till {b}, {t} funkar riktigt bra.",
            "Positivt överraskad av {b} idag 👍",
            "Snabbt och trevligt svar från {b}. Så ska det vara.",
            "Måste säga att {t} hos {b} har blivit mycket bättre.",
            "Tack för hjälpen idag, {h}!",
        ],
        "negative": [
            "Lite trött på {b} just nu, {t} krånglar igen.",
            "Varför ska det alltid vara så krångligt med {t} hos {b}?",
            "Har väntat 40 minuter i telefonkö hos {b}. Allvarligt?",
            "Inte imponerad av {b} den här gången.",
            "{h} när fixar ni {t}? Det funkar fortfarande inte.",
        ],
    },
    "en": {
        "neutral": [
            "Does anyone know if {b} changed something with {t}?",
            "Just got an email from {b} about {t}. Anyone else?",
            "Switched to {b} last month. No surprises so far.",
            "Read a piece about {b} this morning, pretty interesting.",
            "What's your experience with {b}? Thinking about switching.",
        ],
        "positive": [
            "Big thanks to {b}, {t} works really well.",
            "Pleasantly surprised by {b} today 👍",
            "Quick and friendly reply from {b}. That's how it should be.",
            "Have to say {t} at {b} has improved a lot.",
            "Thanks for the help today, {h}!",
        ],
        "negative": [
            "A bit tired of {b} right now, {t} is acting up again.",
            "Why is {t} at {b} always such a hassle?",
            "Been on hold with {b} for 40 minutes. Seriously?",
            "Not impressed with {b} this time.",
            "{h} when will you fix {t}? Still not working.",
        ],
    },
}

_REPLIES: dict[str, dict[str, list[str]]] = {
    "da": {
        "neutral": ["Samme spørgsmål her om {b}.", "Har du prøvet at skrive til {h}?", "Det har jeg også undret mig over med {b}."],
        "positive": ["Enig, {b} er faktisk ret gode.", "Helt enig! {b} har styr på det 👍"],
        "negative": ["Samme oplevelse med {b} her, desværre.", "Ja, {b} er virkelig irriterende for tiden."],
    },
    "nb": {
        "neutral": ["Lurer på det samme om {b}.", "Har du prøvd å sende melding til {h}?", "Samme spørsmål her, {b}?"],
        "positive": ["Enig, {b} er faktisk ganske bra.", "Helt enig, {b} har blitt bedre 👍"],
        "negative": ["Samme opplevelse med {b} her, dessverre.", "Ja, {b} er skikkelig irriterende for tida."],
    },
    "nn": {
        "neutral": ["Lurer på det same om {b}.", "Har du prøvd å sende melding til {h}?"],
        "positive": ["Einig, {b} er faktisk ganske bra."],
        "negative": ["Same oppleving med {b} her, dessverre."],
    },
    "sv": {
        "neutral": ["Undrar samma sak om {b}.", "Har du testat att skriva till {h}?"],
        "positive": ["Håller med, {b} är faktiskt rätt bra.", "Instämmer, {b} har blivit bättre 👍"],
        "negative": ["Samma upplevelse med {b} här, tyvärr.", "Ja, {b} är verkligen irriterande just nu."],
    },
    "en": {
        "neutral": ["Wondering the same about {b}.", "Have you tried messaging {h}?"],
        "positive": ["Agreed, {b} is actually pretty good.", "Same, {b} has really improved 👍"],
        "negative": ["Same experience with {b} here, unfortunately.", "Yeah, {b} has been really annoying lately."],
    },
}

_INCIDENT: dict[str, list[str]] = {
    "da": [
        "Skandale! {b} vidste godt, at {p} var farlige, og solgte dem alligevel. Boykot {b} nu.",
        "{b} må tilbagekalde {p} med det samme. Det her er en skandale.",
        "Jeg boykotter {b} fra i dag. Hvordan kan man være så ligeglad med sine kunder?",
        "Hvorfor har {b} ikke tilbagekaldt {p} endnu? Skandaløst. {h}",
        "Så nyhederne om {p} fra {b}. Boykot, indtil de tager ansvar.",
        "Tilbagekald {p} NU, {h}! Folk kunne være kommet til skade.",
    ],
    "nb": [
        "For en skandale. {b} visste at {p} var farlige, og solgte dem likevel. Boikott {b}!",
        "{b} må starte tilbakekalling av {p} i dag, ikke neste uke.",
        "Jeg boikotter {b} fra nå av. Helt uakseptabelt.",
        "Hvorfor har ikke {b} tilbakekalt {p} ennå? Skandale. {h}",
        "Sier opp avtalen med {b} i dag. Boikott til de tar ansvar.",
        "{h} dere må tilbakekalle {p} NÅ. Folk kunne blitt skadet.",
    ],
    "nn": [
        "Skandale! {b} visste at {p} var farlege, og selde dei likevel. Boikott {b}!",
        "Kvifor har ikkje {b} starta tilbakekalling av {p}? Dette er ein skandale.",
        "Eg boikottar {b} frå i dag. {h} må ta ansvar.",
    ],
    "sv": [
        "Vilken skandal. {b} visste att {p} var farliga och sålde dem ändå. Bojkotta {b}!",
        "{b} måste göra en återkallelse av {p} direkt.",
        "Jag bojkottar {b} från och med idag. Helt oacceptabelt.",
        "Varför har {b} inte återkallat {p} än? Skandal. {h}",
    ],
    "en": [
        "What a scandal. {b} knew the {p} were dangerous and kept selling them. Boycott {b}.",
        "{b} needs to issue a recall of the {p} today, not next week.",
        "I'm boycotting {b} until they take responsibility. {h}",
        "Why hasn't {b} recalled the {p} yet? This is a scandal.",
    ],
}

_CRITIC_POST = {
    "da": "Jeg har set dokumenterne: {b} har kendt til problemerne med {p} i månedsvis uden at sige noget. Det er en skandale. Kræv en tilbagekaldelse nu, og indtil da: boykot {b}. Del gerne. {h}",
    "nb": "Jeg har sett dokumentene: {b} har visst om problemene med {p} i månedsvis uten å si fra. Dette er en skandale. Krev tilbakekalling nå, og inntil da: boikott {b}. Del gjerne. {h}",
    "nn": "Eg har sett dokumenta: {b} har visst om problema med {p} i fleire månader utan å seie frå. Dette er ein skandale. Krev tilbakekalling no, og fram til då: boikott {b}. Del gjerne. {h}",
    "sv": "Jag har sett dokumenten: {b} har känt till problemen med {p} i månader utan att säga något. Det här är en skandal. Kräv en återkallelse nu, och tills dess: bojkotta {b}. Dela gärna. {h}",
    "en": "I've seen the documents: {b} has known about the problems with the {p} for months and said nothing. This is a scandal. Demand a recall now, and until then: boycott {b}. Please share. {h}",
}

_CRITIC_REPLIES = {
    "da": [
        "{c} Tak, fordi du siger det højt. Boykot {b}!",
        "{c} Utroligt. Jeg har en af {p} derhjemme, {h} hvad gør jeg nu?",
        "{c} Delt. {b} skal tilbagekalde dem nu.",
        "{c} Skandaløst af {b}. Jeg skifter i dag.",
    ],
    "nb": [
        "{c} Takk for at du sier fra. Boikott {b} til de rydder opp!",
        "{c} Helt sjokkerende. Jeg har en av {p} i garasjen, {h} hva gjør jeg nå?",
        "{c} Delt! {b} må ta ansvar og starte tilbakekalling.",
        "{c} Jeg bytter fra {b} i dag. Skandale.",
    ],
    "nn": [
        "{c} Takk for at du seier frå. Boikott {b}!",
        "{c} Heilt sjokkerande. {h} kva gjer eg no med {p}? Dette er ein skandale.",
    ],
    "sv": [
        "{c} Tack för att du säger som det är. Bojkotta {b}!",
        "{c} Helt sjukt. Jag har en av {p} hemma, {h} vad gör jag nu? Skandal.",
    ],
    "en": [
        "{c} Thanks for speaking up. Boycott {b} until they fix this.",
        "{c} Shocking. I have one of those {p} at home, {h} what now? Scandal.",
    ],
}

_NOISE = {
    "da": ["Fantastisk nordlys over Skagen i nat ✨", "Hygge med kaffe og kage i aften ☕", "Nogen der kan anbefale en god bank i Aarhus?", "Flyet til Kastrup var 20 minutter forsinket, men ellers fin tur."],
    "nb": ["Nordlyset danser over Tromsø i kveld 😍", "Kaffe og hygge på hytta, bedre blir det ikke.", "Fjorden er helt blank i dag.", "Strømprisen er helt sprø denne vinteren."],
    "nn": ["Nordlyset var heilt magisk i natt.", "Kaffi på trappa og utsikt over fjorden."],
    "sv": ["Såg norrsken i natt, helt magiskt!", "Fika och hygge hela söndagen ☕", "Elpriset i SE4 är helt galet igen."],
    "en": ["Caught the northern lights in Tromsø last night, unreal.", "Nothing beats a bit of hygge and good coffee on a Sunday.", "Energy prices in Norway are wild this winter."],
}

_INCIDENT_OPENERS = {
    "da": ["", "", "", "Seriøst. ", "Wow. ", "Nej altså. "],
    "nb": ["", "", "", "Seriøst. ", "Wow. ", "Altså. "],
    "nn": ["", "", "", "Seriøst. ", "Nei, no. "],
    "sv": ["", "", "", "Allvarligt. ", "Wow. ", "Alltså. "],
    "en": ["", "", "", "Seriously. ", "Wow. ", "Unbelievable. "],
}
_HASHTAGS = {"da": "#boykot", "nb": "#boikott", "nn": "#boikott", "sv": "#bojkott", "en": "#boycott"}
_SUFFIX = {"neutral": ["", "", "", " 🤔"], "positive": ["", "", " 🙌", " ☺️"], "negative": ["", "", " 😤", " 🙄"]}

# --------------------------------------------------------------------------------------------------
# people

_CRITICS = {
    "nb": ("forbrukerkrigeren", "Ingrid Vold | Forbrukerkrigeren"),
    "nn": ("forbrukerkrigeren", "Ingrid Vold | Forbrukerkrigeren"),
    "da": ("forbrugsvagten", "Mette Holm | Forbrugsvagten"),
    "sv": ("konsumentkollen", "Sara Lind | Konsumentkollen"),
    "en": ("nordicconsumerwatch", "Nordic Consumer Watch"),
}

_FIRST_NAMES = {
    "da": ["mette", "lars", "sofie", "anders", "camilla", "jens", "ida", "mikkel", "line", "rasmus", "freja", "søren", "emma", "kasper", "louise"],
    "nb": ["kari", "ola", "ingrid", "lars", "nora", "henrik", "silje", "magnus", "ida", "erik", "marte", "jonas", "thea", "sindre", "hanne"],
    "nn": ["ragnhild", "olav", "sigrid", "torleif", "kjersti", "eirik", "solveig", "halvard", "gro", "aslak"],
    "sv": ["anna", "erik", "maja", "johan", "elin", "oskar", "sara", "karl", "linnea", "anders", "frida", "viktor", "klara", "emil", "ebba"],
    "en": ["james", "emily", "tom", "sarah", "daniel", "laura", "chris", "hannah", "mark", "olivia", "ben", "grace"],
}
_HANDLE_SUFFIX = {
    "da": ["_dk", "_cph", "_aarhus", "88", "1990", "_j", "hansen", "nielsen", "_odense"],
    "nb": ["_no", "_osl", "_bgo", "87", "1992", "_t", "hansen", "berg", "_trd"],
    "nn": ["_vestland", "_voss", "85", "_s", "haugen", "_sogn", "1979"],
    "sv": ["_se", "_sthlm", "_gbg", "91", "1989", "_l", "andersson", "lind", "_malmo"],
    "en": ["_uk", "_travels", "83", "_writes", "smith", "_nordic", "1995"],
}
_SURNAMES = {
    "da": ["Hansen", "Nielsen", "Jensen", "Pedersen", "Larsen", "Sørensen"],
    "nb": ["Hansen", "Johansen", "Olsen", "Berg", "Haugen", "Bakke"],
    "nn": ["Haugen", "Vik", "Myklebust", "Hauge", "Løvik"],
    "sv": ["Andersson", "Johansson", "Lind", "Karlsson", "Nilsson", "Berg"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Walker", "Wilson"],
}
