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

# --------------------------------------------------------------------------------------------------
# the answer loop: questions addressed to a brand ({H}: the brand's account in the form the source
# uses), the brand's answers ({a}: the asker), and the incident's questions and the brand's statement

_QUESTIONS: dict[str, dict[str, list[str]]] = {
    "da": {
        "question": [
            "{H} hvornår kommer den nye version af appen? Kan ikke finde noget på jeres side.",
            "Hej {H}, kan man skifte abonnement uden gebyr? Spørger for en ven 🙂",
            "{H} er der noget galt med {t} i dag, eller er det bare mig?",
        ],
        "request": [
            "{H} kan I ringe mig op om {t}? Jeg har skrevet to gange uden svar.",
            "Hej {H}, vil I sende mig en kopi af min seneste faktura? Kan ikke hente den i appen.",
        ],
        "complaint": [
            "{H} jeg er blevet trukket to gange for det samme. Hvem kan hjælpe?",
            "{H} appen har ikke virket siden i går, og ingen svarer. Elendig service.",
        ],
    },
    "nb": {
        "question": [
            "{H} når kommer den nye versjonen av appen? Finner ingenting på nettsidene deres.",
            "Hei {H}, kan man bytte avtale uten gebyr? Spør for en venn 🙂",
            "{H} er det noe galt med {t} i dag, eller er det bare meg?",
            "{H} hvordan endrer jeg adressen min? Finner det ikke i appen.",
        ],
        "request": [
            "{H} kan dere ringe meg opp om {t}? Har sendt to meldinger uten svar.",
            "Hei {H}, kan dere sende meg en kopi av siste faktura? Får ikke lastet den ned.",
        ],
        "complaint": [
            "{H} jeg er trukket to ganger for det samme. Hvem kan hjelpe meg?",
            "{H} appen har ikke virket siden i går, og ingen svarer. Elendig service.",
        ],
    },
    "nn": {
        "question": [
            "{H} når kjem den nye versjonen av appen? Finn ingenting på nettsidene dykkar.",
            "Hei {H}, kan ein byte avtale utan gebyr?",
            "{H} er det noko gale med {t} i dag, eller er det berre eg?",
        ],
        "request": ["{H} kan de ringje meg om {t}? Eg har sendt to meldingar utan svar."],
        "complaint": ["{H} eg er trekt to gonger for det same. Kven kan hjelpe meg?"],
    },
    "sv": {
        "question": [
            "{H} när kommer den nya versionen av appen? Hittar inget på er sida.",
            "Hej {H}, går det att byta abonnemang utan avgift?",
            "{H} är det något fel på {t} idag, eller är det bara jag?",
        ],
        "request": [
            "{H} kan ni ringa upp mig om {t}? Har mejlat två gånger utan svar.",
            "Hej {H}, kan ni skicka en kopia på min senaste faktura? Den går inte att ladda ner.",
        ],
        "complaint": ["{H} jag har blivit debiterad två gånger för samma sak. Vem kan hjälpa mig?"],
    },
    "en": {
        "question": [
            "{H} when is the new version of the app coming? Can't find anything on your site.",
            "Hi {H}, can I switch plans without a fee?",
            "{H} is something wrong with {t} today or is it just me?",
        ],
        "request": ["{H} could someone call me back about {t}? I've written twice with no answer."],
        "complaint": ["{H} I've been charged twice for the same thing. Who can help?"],
    },
}

_BRAND_REPLIES: dict[str, list[str]] = {
    "da": [
        "{a} Hej, og tak for din besked! Vi har sendt dig en privat besked, så vi kan se på det sammen. Mvh. kundeservice, {b}",
        "{a} Tak fordi du skriver. Det er løst nu, prøv gerne igen, og skriv til os, hvis det stadig driller. Mvh. {b}",
    ],
    "nb": [
        "{a} Hei, og takk for meldingen! Vi har sendt deg en privat melding, så ser vi på det sammen. Hilsen kundeservice i {b}",
        "{a} Takk for at du sier fra. Det er fikset nå, prøv gjerne igjen og gi oss beskjed om noe fortsatt ikke virker. Hilsen {b}",
        "{a} Hei! Det kan du gjøre under Min side i appen. Hilsen {b}",
    ],
    "nn": ["{a} Hei, og takk for meldinga! Vi har sendt deg ei privat melding, så ser vi på det saman. Helsing kundeservice i {b}"],
    "sv": [
        "{a} Hej och tack för ditt meddelande! Vi har skickat ett DM så tittar vi på det tillsammans. Hälsningar kundtjänst, {b}",
        "{a} Tack för att du hör av dig. Det är åtgärdat nu, testa gärna igen. Hälsningar {b}",
    ],
    "en": [
        "{a} Hi, and thanks for reaching out! We've sent you a DM so we can look into it together. The {b} team",
        "{a} Thanks for letting us know. It's fixed now, please try again and tell us if anything still fails. The {b} team",
    ],
}

_INCIDENT_QUESTIONS: dict[str, list[str]] = {
    "da": ["{H} jeg har en af {p} fra jer derhjemme. Er den sikker at bruge, eller skal jeg slukke den nu?"],
    "nb": [
        "{H} jeg har en av {p} fra dere hjemme. Er den trygg å bruke, eller må jeg slå den av nå?",
        "{H} får vi pengene tilbake for {p}? Hva skal vi kunder gjøre?",
    ],
    "nn": ["{H} eg har ein av {p} frå dykk heime. Er han trygg å bruke, eller må eg slå han av no?"],
    "sv": ["{H} jag har en av {p} från er hemma. Är den säker att använda, eller ska jag stänga av den nu?"],
    "en": ["{H} I have one of your {p} at home. Is it safe to use, or should I switch it off now?"],
}

_BRAND_STATEMENT: dict[str, str] = {
    "da": "{a} Vi tager det her meget alvorligt. Stop med at bruge {p}, indtil vi har undersøgt sagen; vi sender mere information i løbet af dagen. Mvh. {b}",
    "nb": "{a} Vi tar dette svært alvorlig. Slutt å bruke {p} til vi har undersøkt saken; vi sender mer informasjon i løpet av dagen. Hilsen {b}",
    "nn": "{a} Vi tek dette svært alvorleg. Slutt å bruke {p} til vi har undersøkt saka; vi sender meir informasjon i løpet av dagen. Helsing {b}",
    "sv": "{a} Vi tar det här på största allvar. Sluta använda {p} tills vi har utrett saken; vi skickar mer information under dagen. Hälsningar {b}",
    "en": "{a} We take this very seriously. Please stop using the {p} until we have looked into it; we will share more information today. The {b} team",
}

# --------------------------------------------------------------------------------------------------
# stories: reposts of a post ({x}: its text, {u}: its author) and the incident's copy-paste text

_REPOSTS = ["RT @{u}: {x}", "{x} via @{u}", "RT @{u} {x}"]
_QUOTES: dict[str, list[str]] = {
    "da": ["Præcis det her! {x}", "Enig 👇 {x}", "Godt sagt. {x}"],
    "nb": ["Akkurat dette! {x}", "Enig 👇 {x}", "Godt sagt. {x}"],
    "nn": ["Akkurat dette! {x}", "Einig 👇 {x}"],
    "sv": ["Precis det här! {x}", "Håller med 👇 {x}"],
    "en": ["Exactly this! {x}", "Agreed 👇 {x}", "Well said. {x}"],
}

#: One complaint that many accounts post within minutes (a "post this now" call), per language. Worded
#: so that the demo's sentiment model reads it as negative (a calmer "we demand ..." version was scored
#: positive, which hid the copies from the negative-surge rule).
_COPY_PASTE: dict[str, str] = {
    "da": "Det her er en skandale. {b} solgte {p}, selv om de vidste, at de var farlige. Kræv en tilbagekaldelse og boykot {b}, indtil de tager ansvar. Del videre.",
    "nb": "Dette er en skandale. {b} solgte {p} selv om de visste at de var farlige. Krev tilbakekalling og boikott {b} til de tar ansvar. Del videre.",
    "nn": "Dette er ein skandale og eit svik. {b} selde {p} sjølv om dei visste at dei var farlege. Krev tilbakekalling og boikott {b} til dei tek ansvar.",
    "sv": "Det här är en skandal och ett svek. {b} sålde {p} fast de visste att de var farliga. Kräv en återkallelse och bojkotta {b} tills de tar ansvar.",
    "en": "This is a scandal. {b} sold the {p} knowing they were dangerous. Demand a recall and boycott {b} until they take responsibility. Share this.",
}
_COPY_PREFIX = {"da": "Seriøst. ", "nb": "Seriøst. ", "nn": "Seriøst. ", "sv": "Allvarligt. ", "en": "Seriously. "}
