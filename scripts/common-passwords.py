#!/usr/bin/env python3
"""Writes crates/trama-core/src/common_passwords.txt: passwords too common to accept.

The list is made here from common knowledge of what people choose, not copied from a leak:
the passwords every published "most common" ranking opens with, keyboard walks, Italian and
English first names and surnames, football clubs, pets, places, everyday words and words of
affection, doubled and in leet spelling; the commonest (HEAD) also with the endings people
add (1, 123, a year, !). Lower case, one a line, sorted, unique.

`NewPassword::parse` (crates/trama-core/src/auth.rs) refuses a password whose lower-case form
is on the list, or is a word of the list followed only by digits and punctuation
("Juventus1897!"), so the endings need not all be spelled out here.

Run it again after changing the words: python3 scripts/common-passwords.py
"""

from pathlib import Path

# The head of every public ranking of common passwords.
TOP = """
123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123 abc123
1234 password1 iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein
654321 monkey 27653 1qaz2wsx 123321 qwertyuiop superman asdfghjkl trustno1 welcome 123qwe
football baseball master shadow michael 666666 qazwsx 7777777 121212 654321 passw0rd
p@ssword p@ssw0rd pa$$word pa55word password123 password12 password1234 admin admin123
administrator root toor login welcome1 welcome123 hello hello123 hellohello secret secret123
whatever freedom starwars batman pokemon computer internet letmein1 access access123
mustang jordan jordan23 harley ranger buster soccer hockey killer george charlie andrew
michelle jessica pepper daniel hunter hunter2 thomas tigger robert summer winter spring autumn
flower flowers cookie chocolate cheese banana orange purple yellow silver golden diamond
matrix ninja samsung apple google microsoft iphone android nokia facebook instagram
whatsapp youtube twitter netflix spotify amazon playstation xbox minecraft fortnite
q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc qazwsxedc
qwertyui qwertyu qwert asdfgh asdfghjk asdfghjkl zxcvbnm zxcvbn 1234qwer qwer1234
qwerty1 qwerty12 qwerty1234 asdf1234 asdf zxcv1234 1234asdf abcd1234 abcdef abcdefg
abcdefgh abcdefghi abcdefghij abc12345 a1b2c3d4 a1b2c3 1a2b3c4d aaaaaa aaaaaaaa
qqqqqq 112233 11223344 1122334455 121314 131313 123654 147258 147258369 159753
159357 123456a 123456aa a123456 a12345678 987654321 0987654321 9876543210 0123456789
12341234 12344321 11111111 1111111111 22222222 88888888 99999999 00000000 0000000000
123123123 123412341234 12345612345 123456123456 1234554321 1212121212 5555555555
loveyou iloveu iloveyou1 iloveyou2 lovely loveme love123 lover fuckyou fuckoff
asshole bitch sexy sexygirl babygirl baby angel angel1 beautiful sweety sweetheart
football1 baseball1 superstar starwars1 rockyou rainbow blessed jesus jesus1 christ
heaven god godisgood changeme changeit default guest user test test123 test1234
testtest demo demo123 temp temp123 temppass letmein123 opensesame mypassword
mypass nopassword nopass passpass password! password1! passwordpassword
"""

# Italian words people use as passwords (and the Italian for "password" itself).
ITALIAN = """
ciao ciaociao ciao123 ciao1234 amore amoremio amoretto tiamo tiamotanto tivogliobene
tvb tvtb tesoro tesoromio cuore cuoricino bacio baci bacione dolce dolcezza
principessa principe stellina stella sole luna mare cielo fiore fiori rosa rose
gattino gatto gattina micio micia cucciolo cane cagnolino pulcino orsetto coniglio
topolino paperino pippo pluto minnie paperina winnie bambi
famiglia mamma papa papà nonna nonno figlio figlia fratello sorella bambino bambina
bimbo bimba piccola piccolo tata amica amico amici
calcio pallone campione campioni forza scudetto tifoso ultras curva
juventus juve forzajuve forzajuventus finoallafine juventus1897 juve1897
milan acmilan forzamilan milan1899 rossoneri diavolo diavoli
inter internazionale forzainter inter1908 nerazzurri amala
napoli forzanapoli napoli1926 sscnapoli maradona azzurri
roma asroma forzaroma roma1927 giallorossi totti francescototti
lazio sslazio forzalazio lazio1900 biancocelesti
fiorentina viola forzaviola torino forzatoro granata toro
atalanta dea bologna genoa sampdoria samp udinese verona hellas parma cagliari sassuolo
palermo bari lecce empoli monza salernitana spezia brescia venezia
delpiero baggio buffon pirlo maldini baresi zanetti ronaldo ronaldinho messi ibrahimovic
italia italiano italiana forzaitalia tricolore
milano roma torino napoli firenze venezia bologna genova palermo bari catania verona
padova trieste brescia parma modena reggio perugia cagliari pescara ancona trento
bergamo como monza varese sicilia sardegna puglia calabria toscana lombardia piemonte
veneto liguria campania lazio abruzzo marche umbria friuli
pizza pasta spaghetti lasagna tiramisu cioccolato nutella gelato caffe caffè cappuccino
fragola ciliegia banana mela pesca limone vino birra
ferrari lamborghini maserati fiat vespa ducati alfaromeo lancia
valentino valentinorossi rossi vasco vascorossi ligabue jovanotti
estate inverno primavera autunno natale pasqua vacanza vacanze
segreto segreta chiave parola parolachiave parolasegreta accesso entra entrare
benvenuto benvenuta nonlaso nonloso boh password passwordd
francesco alessandro andrea giuseppe giovanni antonio marco luca matteo lorenzo
leonardo mattia gabriele riccardo tommaso edoardo federico davide simone stefano
roberto paolo mario massimo fabio daniele claudio maurizio salvatore vincenzo
michele emanuele filippo nicola pietro enrico alberto angelo carlo franco luigi
sergio bruno gianni giorgio cristian christian manuel samuele diego dario
maria anna giulia francesca chiara sara martina valentina alessia federica elisa
elena laura silvia paola barbara cristina claudia monica simona roberta veronica
giorgia sofia aurora alice ginevra emma beatrice ludovica camilla noemi arianna
irene serena marta michela erika erica ilaria manuela patrizia daniela stefania
antonella angela rosaria teresa lucia carla giovanna francesco1 alessandro1
bella bellissima bello bellissimo tesorino ninna
"""

# Italian surnames, which people type with a birth year.
SURNAMES = """
rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti
deluca mancini costa giordano rizzo lombardi moretti barbieri fontana santoro mariani
rinaldi caruso ferrara galli martini leone longo gentile martinelli vitale lombardo serra
coppola desantis dangelo marchetti parisi villa conte ferraro ferri fabbri bianco marini
grasso valentini messina sala derosa gatti pellegrini palumbo sanna farina rizzi monti
cattaneo morelli amato silvestri mazza testa grassi pellegrino carbone giuliani benedetti
barone rossetti caputo montanari guerra palmieri bernardi martino fiore derossi ferretti
bellini basile riva donati piras vitali battaglia sartori neri costantini milani pagano
ruggiero sorrentino damico orlando damico negri
"""

# More first names, Italian and foreign, common among people in Italy.
NAMES = """
adriano alessio alfredo alessandra agnese amedeo anastasia andreina arturo asia aurelio
bianca carmela carmine caterina cesare cinzia cristiano dino domenico donatella
elia eleonora emilia ettore fabrizio fausto fernanda flavio gaetano gemma gianluca
gianfranco giacomo gino graziella guido ivan jacopo lara leo letizia loredana lucio
luisa maddalena marcello margherita marina marisa massimiliano mattia mauro mirko nadia
nicolo nicoletta ottavio pamela piero raffaele raffaella remo rebecca renato rita
rocco romeo rosa rosanna sabrina samuele sandro santo sebastiano silvio sonia tiziana
ugo umberto vanessa vittoria vittorio walter yuri zoe
mohamed ahmed fatima youssef omar ali amina ion andrei elena1 ioana mihai olga irina
natalia svetlana oksana xin wei li juan jose carlos pedro ana rosa1 mariana
james john robert david richard joseph charles paul mark donald steven kevin brian
george edward ronald timothy jason jeffrey ryan jacob gary nicholas eric jonathan
stephen larry scott frank benjamin gregory samuel patrick raymond jack dennis jerry
alexander peter henry douglas adam nathan zachary kyle walter harold carl arthur
mary patricia linda barbara1 susan karen nancy lisa betty margaret sandra donna
carol ruth sharon laura1 emily kimberly deborah dorothy rebecca1 stephanie carolyn
christine janet catherine maria1 heather diane julie joyce victoria kelly christina
joan evelyn judith megan cheryl andrea1 hannah1 jacqueline martha gloria teresa1
sara1 janice julia marie madison1 grace judy theresa beverly denise marilyn amber
danielle rose brittany diana abigail natalie jane lori alexis tiffany kayla
oliver harry charlie2 jacob1 noah ethan liam mason logan lucas jackson aiden
olivia emma1 ava isabella mia amelia harper evelyn1 chloe lily ella zoey
"""

# Everyday words that turn up in every ranking, Italian and English.
WORDS = """
casa lavoro scuola ufficio computer telefono cellulare internet wifi rete
musica chitarra pianoforte canzone cantante ballo danza teatro cinema film libro
viaggio montagna collina lago fiume spiaggia isola bosco foresta giardino
macchina moto bici bicicletta treno aereo nave barca
cavallo leone tigre aquila lupo orso volpe delfino farfalla drago dinosauro
rosso nero bianco verde azzurro blu giallo arancione viola1 grigio
uno due tre quattro cinque sei sette otto nove dieci cento mille
lunedi martedi mercoledi giovedi venerdi sabato domenica
gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre
fortuna felicita felice allegria speranza libertà liberta pace amicizia vita
dio gesu madonna angelo1 paradiso inferno diavolo1 magia mistero
monday tuesday friday sunday january february march april june july august
september october november december money dollar euro pounds rich
house home family friends friend school office work job happy smile
music guitar piano dance movie book travel mountain beach ocean island forest garden
car truck bike train plane boat yellow1 black white green blue red pink
one two three four five seven eight nine ten hundred thousand million
lucky7 magic mystery dream dreams dreamer hope faith grace1 peace life
king queen prince kingdom castle knight warrior soldier army navy police
doctor nurse teacher student engineer pilot captain1 boss chief leader
"""

# English words and names beyond the head of the rankings.
ENGLISH = """
princess1 sunshine1 monkey1 dragon1 shadow1 master1 superman1 batman1 liverpool chelsea
arsenal manchester manutd barcelona realmadrid juventus1 michael1 jennifer jessica1
ashley amanda nicole daniel1 joshua matthew anthony william christopher elizabeth
samantha melissa sarah hannah lauren taylor madison brandon justin tyler austin
butterfly dolphin tiger lion eagle phoenix falcon wolf panther horse unicorn
maggie bailey buddy lucky max molly bella1 sophie charlie1 rocky
computer1 internet1 freedom1 whatever1 letmein12 trustno1! qwerty! abc123!
spiderman ironman captain avengers harrypotter hogwarts gandalf frodo pikachu
"""

ENDINGS = [
    "", "1", "12", "123", "1234", "12345", "123456", "!", "1!", "123!", "01", "007",
    "69", "99", "00", "11", "22", "77", "88", ".", "@", "#", "?", "*",
] + [str(y) for y in range(1950, 2031)] + [f"{y % 100:02d}" for y in range(1970, 2030)]


# The words whose variants are listed one by one.
HEAD = set("""
password qwerty iloveyou princess sunshine football monkey dragon shadow master welcome
ciao amore tesoro juventus juve milan inter napoli roma lazio italia forzajuve forzamilan
forzainter forzanapoli forzaroma tiamo amoremio francesco alessandro andrea giuseppe
marco luca giulia francesca chiara sara martina valentina admin login
""".split())


def words(block: str) -> list[str]:
    return [w.lower() for w in block.split()]


def main() -> None:
    bases = sorted(
        set(words(TOP) + words(ITALIAN) + words(SURNAMES) + words(NAMES) + words(WORDS) + words(ENGLISH))
    )
    out = set(bases)
    for base in bases:
        if not base.isalpha():
            continue
        # The endings people add are caught by the rule in auth.rs (a listed word with only
        # digits and punctuation around it); the most common are spelled out as well.
        if base in HEAD:
            for end in ENDINGS:
                out.add(base + end)
        # Doubled words and the usual capital-free leet spellings.
        out.add(base + base)
        leet = base.replace("a", "4").replace("e", "3").replace("i", "1").replace("o", "0")
        if leet != base:
            out.add(leet)
        out.add(base.replace("a", "@").replace("o", "0"))
    # Runs of one key and counting, at every length people type.
    for c in "0123456789abcdefghijklmnopqrstuvwxyz":
        for n in range(6, 17):
            out.add(c * n)
    digits = "1234567890"
    for n in range(6, 11):
        out.add(digits[:n])
        out.add(digits[:n][::-1])
    path = Path(__file__).resolve().parent.parent / "crates/trama-core/src/common_passwords.txt"
    lines = sorted(w for w in out if w and "\n" not in w)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} passwords written to {path}")


if __name__ == "__main__":
    main()
